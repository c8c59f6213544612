import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { readTemplate, renderDockerfile } from '../src/template.js';

const labels = { 'dev.distroless-contents.run': 'h/1/u' };

describe('renderDockerfile', () => {
  it("renders the article's Dockerfile from templates/Dockerfile", () => {
    const dockerfile = renderDockerfile({
      image: 'gcr.io/distroless/static-debian12:nonroot',
      base: 'alpine:3.20.3',
      labels: {
        'dev.distroless-contents.tool': 'distroless-contents',
        'dev.distroless-contents.run': 'h/1/u',
      },
    });
    const instructions = dockerfile.split('\n').filter((line) => line && !line.startsWith('#'));
    expect(instructions).toEqual([
      'FROM alpine:3.20.3',
      'LABEL "dev.distroless-contents.run"="h/1/u" "dev.distroless-contents.tool"="distroless-contents"',
      'ENV DISTROLESS_CONTENTS=/distroless-contents',
      'COPY --from=gcr.io/distroless/static-debian12:nonroot / $DISTROLESS_CONTENTS/',
      'WORKDIR $DISTROLESS_CONTENTS',
      'CMD ["/bin/sh"]',
    ]);
  });

  it('copies each --path to its own place instead of the root', () => {
    const dockerfile = renderDockerfile({
      image: 'a',
      base: 'b',
      labels,
      paths: ['/etc', '/usr/share/my doc,2'],
    });
    const copies = dockerfile.split('\n').filter((line) => line.startsWith('COPY'));
    expect(copies).toEqual([
      'COPY --from=a ["/etc", "/distroless-contents/etc"]',
      'COPY --from=a ["/usr/share/my doc,2", "/distroless-contents/usr/share/my doc,2"]',
    ]);
    // No selected path at all (each one a symlink, made without COPY): no COPY step.
    expect(renderDockerfile({ image: 'a', base: 'b', labels, paths: [] })).not.toMatch(/^COPY/m);
  });

  it.each(['alpine\nRUN id', 'alpine --chown=0', 'a"b'])('refuses %j for either value', (bad) => {
    expect(() => renderDockerfile({ image: bad, base: 'alpine', labels })).toThrow(UsageError);
    expect(() => renderDockerfile({ image: 'alpine', base: bad, labels })).toThrow(UsageError);
  });

  it('refuses a template with an unknown placeholder', () => {
    expect(() =>
      renderDockerfile({ image: 'a', base: 'b', labels }, `${readTemplate()}\nLABEL x={{other}}`),
    ).toThrow(/unknown placeholder \{\{other\}\}/);
  });
});
