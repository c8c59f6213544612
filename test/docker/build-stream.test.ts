import { describe, expect, it } from 'vitest';
import { type BuildResource, createdResources } from '../../src/docker/build.js';

// Output of Engine 20.10's legacy builder for the generated Dockerfile's first steps, as printed by
// `DOCKER_BUILDKIT=0 docker build` (the build stream's `stream` lines).
const OUTPUT = `Step 1/4 : FROM distroless-contents-test/shell:latest
 ---> d97fac7540fe
Step 2/4 : LABEL "a.b"="x" "c"="d"
 ---> Running in f0681e2f5fad
Removing intermediate container f0681e2f5fad
 ---> 6d07a3f654af
Step 3/4 : ENV X=1
 ---> Running in ee402eb35b3c
Removing intermediate container ee402eb35b3c
 ---> ee2beb67aaeb
Step 4/4 : COPY --from=sha256:0123 / /distroless-contents/
 ---> 466848767f9a
Successfully built 466848767f9a`;

describe('createdResources', () => {
  it("reports every container and image the build made, never the FROM step's base", () => {
    const seen: BuildResource[] = [];
    const read = createdResources((resource) => seen.push(resource));
    for (const line of OUTPUT.split('\n')) read(line);
    expect(seen).toEqual([
      { kind: 'container', id: 'f0681e2f5fad' },
      { kind: 'image', id: '6d07a3f654af' },
      { kind: 'container', id: 'ee402eb35b3c' },
      { kind: 'image', id: 'ee2beb67aaeb' },
      { kind: 'image', id: '466848767f9a' },
    ]);
  });
});
