// Which manifest a video plays from, and with which player: the best this browser supports.
import type { Video } from "./api";

export type Format = "hls" | "dash";
export type Engine = "hls.js" | "dash.js" | "native";
export type Playback = {
  format: Format;
  engine: Engine;
  url: string;
  /** The best video codec of the manifest that this browser decodes, when it was read. */
  codec: string | null;
};

/** Video codec families, least efficient first: a later one looks as good at fewer bits. */
const FAMILIES = [
  { name: "H.264", prefixes: ["avc1", "avc3"] },
  { name: "HEVC", prefixes: ["hvc1", "hev1"] },
  { name: "AV1", prefixes: ["av01"] },
];

/** The place of a codec string's family in FAMILIES; -1 for audio and unknown codecs. */
export function codecRank(codec: string | null): number {
  if (!codec) return -1;
  return FAMILIES.findIndex((family) => family.prefixes.some((prefix) => codec.startsWith(prefix)));
}

/** "AV1" for "av01.0.05M.08"; null for audio and unknown codecs. */
export function codecFamily(codec: string | null): string | null {
  return FAMILIES[codecRank(codec)]?.name ?? null;
}

/** The video codecs a master playlist (its CODECS attributes) or an MPD (`codecs`) lists. */
export function advertisedVideoCodecs(manifest: string): string[] {
  const codecs = [...manifest.matchAll(/codecs="([^"]+)"/gi)].flatMap((match) => match[1].split(","));
  return [...new Set(codecs.map((codec) => codec.trim()).filter((codec) => codecRank(codec) >= 0))];
}

/** Media Source Extensions, as iOS Safari (ManagedMediaSource) or any other browser has them. */
export function mediaSource(): typeof MediaSource | undefined {
  const managed = (window as { ManagedMediaSource?: typeof MediaSource }).ManagedMediaSource;
  return managed ?? window.MediaSource;
}

/** Whether this browser's MSE decodes `codec` in fragmented MP4. */
export function playable(codec: string): boolean {
  return mediaSource()?.isTypeSupported(`video/mp4; codecs="${codec}"`) ?? false;
}

/** The most efficient of `codecs` that this browser decodes; null when it decodes none. */
export function bestPlayable(codecs: string[]): string | null {
  return codecs.filter(playable).sort((a, b) => codecRank(b) - codecRank(a))[0] ?? null;
}

async function bestIn(url: string): Promise<string | null> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`the manifest could not be loaded (${response.status})`);
  return bestPlayable(advertisedVideoCodecs(await response.text()));
}

/**
 * How to play `video`. Without MSE only the browser's own HLS can (Safari on older iPhones).
 * With it, a video that has both manifests plays from the one whose best codec this browser
 * decodes is the better (AV1, then HEVC, then H.264); when they tie, as they do when both list
 * the same renditions, HLS, the format every video has. `forced` picks the format instead.
 */
export async function choosePlayback(video: Video, forced: Format | null): Promise<Playback> {
  const hlsUrl = video.playback_url;
  const dashUrl = video.dash_url;
  if (forced === "dash" && !dashUrl) throw new Error("this video has no DASH manifest");
  if (!hlsUrl) throw new Error("this video has no playlist");
  if (!mediaSource()) {
    if (forced !== "dash" && document.createElement("video").canPlayType("application/vnd.apple.mpegurl")) {
      return { format: "hls", engine: "native", url: hlsUrl, codec: null };
    }
    throw new Error(`this browser cannot play ${forced === "dash" ? "DASH" : "HLS"}`);
  }
  if (!dashUrl) return { format: "hls", engine: "hls.js", url: hlsUrl, codec: null };
  const [hlsBest, dashBest] = await Promise.all([bestIn(hlsUrl), bestIn(dashUrl)]);
  const format = forced ?? (codecRank(dashBest) > codecRank(hlsBest) ? "dash" : "hls");
  return format === "dash"
    ? { format, engine: "dash.js", url: dashUrl, codec: dashBest }
    : { format, engine: "hls.js", url: hlsUrl, codec: hlsBest };
}
