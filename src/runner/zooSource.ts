/**
 * Which file the app's "Get the original R-CNN" fetches and what it checks it against: the ONNX
 * Model Zoo's rcnn-ilsvrc13-9.tar.gz with the size and SHA-256 published for it (model/zoo.ts),
 * from the git-lfs media address (github.com's raw address redirects there and sends no CORS
 * headers, so a page cannot read it; it is the one offered for downloading by hand).
 *
 * Tests (e2e/zoo.spec.ts) serve an exact-layout replica from a local HTTP server. The page then
 * takes the replica's address, size and SHA-256 from its query string
 * (`?zoo-url=http://127.0.0.1:PORT/rcnn-ilsvrc13-9.tar.gz&zoo-bytes=N&zoo-sha256=HEX`), and only
 * for an address on this machine (127.0.0.1, localhost, [::1]): a loopback server is the user's
 * own, so nothing an outside link can say changes what the published file is checked against.
 * Chosen over a build-time switch because the replica is made when the test runs (its checksum
 * is not known at build time) and the production build stays the one the tests drive.
 */
import type { PublishedFile } from '../model/zoo';
import { RCNN_ILSVRC13, RCNN_ILSVRC13_FILES } from '../model/zoo';
import type { ZooFacts } from '../workers/downloadProtocol';

export interface ZooOffer {
  /** Fetched by the page's download worker (CORS-readable). */
  url: string;
  /** For downloading by hand when the browser cannot fetch. */
  manualUrl: string;
  facts: ZooFacts;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The stand-in facts a test gave in the query string, or null (none given, or not for a loopback address). */
export function standInFile(params: URLSearchParams): PublishedFile | null {
  const url = params.get('zoo-url');
  if (!url || !URL.canParse(url)) return null;
  const u = new URL(url);
  if (!LOOPBACK.has(u.hostname) || (u.protocol !== 'http:' && u.protocol !== 'https:')) return null;
  const bytes = Number(params.get('zoo-bytes'));
  const sha256 = (params.get('zoo-sha256') ?? '').toLowerCase();
  const name = decodeURIComponent(u.pathname.split('/').pop() ?? '');
  const kind = /\.tar\.gz$/i.test(name) ? 'tar.gz' : /\.onnx$/i.test(name) ? 'onnx' : null;
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || !/^[0-9a-f]{64}$/.test(sha256) || !kind) return null;
  return { name, kind, url, mediaUrl: url, bytes, sha256, opset: kind === 'tar.gz' ? 9 : 3 };
}

/** What "Get the original R-CNN" fetches on this page. */
export function zooOffer(search: string = globalThis.location?.search ?? ''): ZooOffer {
  const standIn = standInFile(new URLSearchParams(search));
  if (standIn) return { url: standIn.url, manualUrl: standIn.url, facts: { file: standIn, published: [standIn], standIn: true } };
  const file = RCNN_ILSVRC13.recommended;
  return { url: file.mediaUrl, manualUrl: file.url, facts: { file, published: [...RCNN_ILSVRC13_FILES] } };
}

/** The facts a dropped file is checked against (the published ones, or the test's stand-in). */
export function zooPublished(search: string = globalThis.location?.search ?? ''): { published: PublishedFile[]; standIn: boolean } {
  const standIn = standInFile(new URLSearchParams(search));
  return standIn ? { published: [standIn], standIn: true } : { published: [...RCNN_ILSVRC13_FILES], standIn: false };
}
