import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the tests that need no engine, no test images and no browser, so no global setup.
 * Each file here must pass with DOCKER_HOST pointing nowhere.
 */
export default defineConfig({
  test: {
    include: [
      'test/template.test.ts',
      'test/reference.test.ts',
      'test/options.test.ts',
      'test/batch/folder-name.test.ts',
      'test/docker/credentials.test.ts',
      'test/docker/build-stream.test.ts',
      'test/extract/tar-subtree.test.ts',
      'test/extract/output-folder.test.ts',
      'test/faults/broken-archive.test.ts',
      'test/inspect/diff.test.ts',
      'test/inspect/glob.test.ts',
      'test/inspect/human-size.test.ts',
      'test/inspect/report-method.test.ts',
      'test/inspect/mode-string.test.ts',
      'test/properties/cli-flags.property.test.ts',
      'test/properties/template.property.test.ts',
      'test/shell/demux-stream.test.ts',
      'test/run/run-lifecycle.test.ts',
      'test/closest-name.test.ts',
      'test/tar/byte-string.test.ts',
      'test/tar/member-header.test.ts',
      'test/text/visible.test.ts',
      'test/inspect/names-as-bytes.test.ts',
      'test/inspect/visible-report.test.ts',
      'test/inspect/target-arguments.test.ts',
      'test/inspect/package-files.test.ts',
      'test/inspect/package-file-diff.test.ts',
      'test/extract/fast/layer-rules.test.ts',
      'test/extract/fast/layer-facts.test.ts',
      'test/extract/hardlink-groups.test.ts',
      'test/inspect/format-layers-text.test.ts',
      'test/extract/fast/save-failure.test.ts',
      'test/extract/fast/layer-rules-selection.test.ts',
      'test/extract/fast/whiteout.test.ts',
      'test/cli/heap-flags.test.ts',
      'test/extract/path-selection.test.ts',
      'test/extract/selected-roots.test.ts',
      'test/sources/source-reference.test.ts',
      'test/sources/registry-reference.test.ts',
      'test/sources/registry-auth.test.ts',
      'test/sources/registry-proxy.test.ts',
    ],
    // Generous: a test that spawns the CLI waits for tsx, which a loaded machine slows down many times.
    testTimeout: 120_000,
  },
});
