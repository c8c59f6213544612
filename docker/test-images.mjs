/** Names of the images `buildTestImages()` keeps in the local engine. No registry is reachable, so tests use these. */
export const TEST_IMAGES = Object.freeze({
  /** Stand-in for alpine:3.20.3: Debian's static busybox, every applet linked in /bin, CMD ["/bin/sh"]. */
  shell: 'distroless-contents-test/shell:latest',
  /** Look-alike of gcr.io/distroless/static-debian12:nonroot (one layer). */
  staticNonroot: 'distroless-contents-test/static:nonroot',
  /** Look-alike of gcr.io/distroless/static-debian12:latest (the same layer, user 0). */
  staticLatest: 'distroless-contents-test/static:latest',
  /** The static:nonroot layer plus a second layer holding Debian's libc6, as base-nossl-debian12:nonroot. */
  baseNosslNonroot: 'distroless-contents-test/base-nossl:nonroot',
  /** Three hand-written layers full of tar edge cases; see edge-image-contents.mjs. */
  edge: 'distroless-contents-test/edge:latest',
});

/** Every image built here carries this label; its value is the hash of the recipe and its inputs. */
export const RECIPE_LABEL = 'dev.distroless-contents.test-recipe';
