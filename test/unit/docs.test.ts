/**
 * The documentation as a newcomer meets it: a README short enough to read in five minutes that leads
 * to every document in docs/, relative links that resolve to a file and, for a link into a Markdown
 * file, to one of its headings, and a table of contents in every long document.
 *
 * Heading anchors follow GitHub's rule (the one the links are written for): the heading text in lower
 * case, with everything but letters, digits, spaces, hyphens and underscores removed, spaces turned
 * into hyphens, and `-1`, `-2`... appended to repeats.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);
const FILES = ['README.md', ...DOCS];

/** About 200 words a minute, for five minutes. */
const README_MAX_WORDS = 1000;
/** A document longer than this has a table of contents. */
const TOC_FROM_LINES = 100;

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** The text outside fenced code blocks, line by line (code lines become empty). */
function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

/** GitHub's anchor for each heading of `markdown`, in order. */
function headingAnchors(markdown: string): string[] {
  const seen = new Map<string, number>();
  const anchors: string[] = [];
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading?.[1]) continue;
    const text = heading[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.push(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Link {
  readonly from: string;
  readonly line: number;
  readonly target: string;
}

/** Inline links `[text](target)` outside code, with their line numbers. */
function linksOf(file: string): Link[] {
  const links: Link[] = [];
  proseLines(read(file)).forEach((line, i) => {
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g))
      links.push({ from: file, line: i + 1, target: m[1] as string });
  });
  return links;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** The repository path a relative link points at, and its anchor. */
function resolveLink(link: Link): { path: string; anchor?: string } {
  const [pathPart = '', anchor] = link.target.split('#', 2);
  const path = pathPart === '' ? link.from : normalize(join(dirname(link.from), decodeURI(pathPart)));
  return anchor === undefined ? { path } : { path, anchor };
}

describe('docs: links', () => {
  it('finds links in every document (the extraction works)', () => {
    for (const file of FILES) expect(linksOf(file).length, `${file} has links`).toBeGreaterThan(0);
    expect(headingAnchors('# A `b` -- <c>\n## Node.js version\n## Node.js version\n```\n# not\n```')).toEqual(
      ['a-b----c', 'nodejs-version', 'nodejs-version-1'],
    );
  });

  it('every relative link resolves to a file in the repository, and every anchor to a heading', () => {
    const broken: string[] = [];
    for (const link of FILES.flatMap(linksOf)) {
      if (isExternal(link.target)) continue;
      const { path, anchor } = resolveLink(link);
      const where = `${link.from}:${link.line} → ${link.target}`;
      if (path.startsWith('..') || !existsSync(join(ROOT, path))) {
        broken.push(`${where}: no file ${path}`);
        continue;
      }
      if (anchor !== undefined && path.endsWith('.md') && !headingAnchors(read(path)).includes(anchor))
        broken.push(`${where}: ${path} has no heading with the anchor #${anchor}`);
    }
    expect(broken).toEqual([]);
  });

  it('every document in docs/ is reachable from README.md', () => {
    const reached = new Set<string>(['README.md']);
    const queue = ['README.md'];
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      for (const link of linksOf(file)) {
        if (isExternal(link.target)) continue;
        const { path } = resolveLink(link);
        if (path.endsWith('.md') && !reached.has(path) && existsSync(join(ROOT, path))) {
          reached.add(path);
          queue.push(path);
        }
      }
    }
    expect(DOCS.filter((doc) => !reached.has(doc))).toEqual([]);
    expect(DOCS.length).toBeGreaterThan(0);
  });
});

describe('docs: a README a newcomer reads in five minutes', () => {
  it(`is at most ${README_MAX_WORDS} words, with the two commands and an example request`, () => {
    const readme = read('README.md');
    const words = readme.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
    expect(words, `README.md has ${words} words`).toBeLessThanOrEqual(README_MAX_WORDS);
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toMatch(/^npm test\b/m);
    expect(readme).toMatch(/curl [^\n]*http:\/\/127\.0\.0\.1:3000\/events\//);
  });

  it(`gives every document over ${TOC_FROM_LINES} lines a table of contents naming each of its sections`, () => {
    for (const doc of DOCS) {
      const text = read(doc);
      if (text.split('\n').length <= TOC_FROM_LINES) continue;
      const toc = /^## Contents\n([\s\S]*?)(?=^## )/m.exec(text)?.[1];
      expect(toc, `${doc} has a "## Contents" section`).toBeDefined();
      const listed = new Set([...(toc ?? '').matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]));
      const sections = proseLines(text)
        .filter((l) => /^## /.test(l) && l !== '## Contents')
        .join('\n');
      const missing = headingAnchors(sections).filter((a) => !listed.has(a));
      expect(missing, `${doc}: sections missing from its contents`).toEqual([]);
    }
  });
});
