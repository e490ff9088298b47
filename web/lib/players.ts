// The players behind the watch page, one shape for all: the renditions to offer, the one
// playing, failures; choosing a rendition (-1 lets the player adapt to the bandwidth again).
import type { Rendition } from "./api";
import { codecFamily, codecRank, type Playback } from "./playback";

export type Quality = { value: number; label: string };

export type PlayerEvents = {
  qualities(list: Quality[]): void;
  /** The rendition on screen now, as a `Quality.value`. */
  switched(value: number): void;
  failed(message: string): void;
};

export type Session = {
  select(value: number): void;
  destroy(): void;
};

/** "360p", or "360p AV1" when the renditions are of more than one codec. */
function labels(renditions: { height: number; codec: string | null }[]): string[] {
  const families = new Set(renditions.map((r) => codecFamily(r.codec)));
  return renditions.map((r) => {
    const family = codecFamily(r.codec);
    return families.size > 1 && family ? `${r.height}p ${family}` : `${r.height}p`;
  });
}

export async function startPlayer(
  media: HTMLVideoElement,
  playback: Playback,
  renditions: Rendition[],
  events: PlayerEvents,
): Promise<Session> {
  if (playback.engine === "dash.js") return startDash(media, playback, events);
  if (playback.engine === "hls.js") {
    const { default: Hls } = await import("hls.js");
    if (Hls.isSupported()) return startHls(Hls, media, playback, events);
  }
  return startNative(media, playback.url, renditions, events);
}

async function startHls(
  Hls: typeof import("hls.js").default,
  media: HTMLVideoElement,
  playback: Playback,
  events: PlayerEvents,
): Promise<Session> {
  // Start on the renditions of the codec the page found best, where the master lists several.
  const player = new Hls(playback.codec ? { videoPreference: { videoCodec: playback.codec } } : {});
  player.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
    const names = labels(data.levels.map((level) => ({ height: level.height, codec: level.videoCodec ?? null })));
    events.qualities(names.map((label, index) => ({ value: index, label })));
  });
  player.on(Hls.Events.LEVEL_SWITCHED, (_, data) => events.switched(data.level));
  player.on(Hls.Events.ERROR, (_, data) => {
    if (data.fatal) events.failed(data.details);
  });
  player.loadSource(playback.url);
  player.attachMedia(media);
  return {
    select: (value) => {
      player.currentLevel = value;
    },
    destroy: () => player.destroy(),
  };
}

async function startDash(media: HTMLVideoElement, playback: Playback, events: PlayerEvents): Promise<Session> {
  const { MediaPlayer, supportsMediaSource } = await import("dashjs");
  if (!supportsMediaSource()) throw new Error("this browser cannot play DASH");
  const player = MediaPlayer().create();
  const codecOf = (mimeCodec: string | null) => /codecs="?([^",]+)/.exec(mimeCodec ?? "")?.[1] ?? null;
  // Every video representation of every adaptation set (one per codec), best codec first:
  // dash.js switches across adaptation sets when a representation of another is chosen.
  let offered: { id: string; height: number; codec: string | null }[] = [];
  // The initial video track is one of the best codec; dash.js offers only those it decodes.
  player.setCustomInitialTrackSelectionFunction((tracks) =>
    [...tracks].sort((a, b) => codecRank(codecOf(b.codec)) - codecRank(codecOf(a.codec))),
  );
  player.on(MediaPlayer.events.STREAM_INITIALIZED, () => {
    offered = player
      .getTracksFor("video")
      .flatMap((track) => track.bitrateList.map((b) => ({ id: b.id ?? "", height: b.height ?? 0, codec: codecOf(track.codec) })))
      .sort((a, b) => codecRank(b.codec) - codecRank(a.codec) || b.height - a.height);
    events.qualities(labels(offered).map((label, index) => ({ value: index, label })));
    const first = player.getCurrentRepresentationForType("video");
    if (first) events.switched(offered.findIndex((r) => r.id === first.id));
  });
  player.on(MediaPlayer.events.QUALITY_CHANGE_RENDERED, (e) => {
    if (e.mediaType === "video") events.switched(offered.findIndex((r) => r.id === e.newRepresentation.id));
  });
  player.on(MediaPlayer.events.ERROR, (e) => {
    const error = (e as { error?: { message?: string } }).error;
    events.failed(error?.message ?? "the DASH player failed");
  });
  player.initialize(media, playback.url, false);
  return {
    select: (value) => {
      player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: value < 0 } } } });
      // Replaces what is buffered, so the chosen rendition shows now rather than in a segment or two.
      if (value >= 0) player.setRepresentationForTypeById("video", offered[value].id, true);
    },
    destroy: () => player.destroy(),
  };
}

/** The browser's own HLS (Safari): the master playlist, or one rendition's to pin a quality. */
function startNative(media: HTMLVideoElement, url: string, renditions: Rendition[], events: PlayerEvents): Session {
  media.src = url;
  events.qualities(renditions.map((r, index) => ({ value: index, label: `${r.height}p` })));
  return {
    select: (value) => {
      const at = media.currentTime;
      media.src = value < 0 ? url : renditions[value].playlist_url;
      media.currentTime = at;
      void media.play().catch(() => {});
      events.switched(value);
    },
    destroy: () => {
      media.removeAttribute("src");
      media.load();
    },
  };
}
