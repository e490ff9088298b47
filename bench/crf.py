#!/usr/bin/env python3
"""Constant-quality curves of the quality corpus: for every clip of bench/quality.sh's
corpus, the 720p rung (or the clip's own size when smaller) encoded as the embedded
transcoder encodes (x264 veryfast High, x265 ultrafast Main, or SVT-AV1 preset 10; 2 s
closed GOPs, no scene cuts) at a range of CRFs, uncapped, and scored against the source
scaled to the same size: bits, VMAF, PSNR and encode time per CRF. These are the measured
points a constant-quality rate control (QVBR's quality levels mapped to capped CRF) is
chosen from, per encoder; with the points of several encoders (--merge), it also prints
the bits each needs for x264's quality and its encode time against x264's.

Usage: bench/crf.py [--encoder x264|x265|svt-av1] [--seconds S] [--crf 18,21,...]
       [--only NAME,...] [--no-footage] [--work DIR] [--json FILE] [--merge FILE ...]
Needs ffmpeg and libvmaf's `vmaf` tool (VODPIPE_VMAF, as scripts/setup.sh's ensure_vmaf
builds it). Prints a table per clip and the median VMAF per CRF over the corpus.

Standard library only.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality  # noqa: E402  (the corpus is bench/quality.py's)

MODEL = "vmaf_v0.6.1"
RUNG_SHORT_SIDE = 720

# What each QVBR quality level holds, as VMAF: vodpipe's reading of MediaConvert's words
# (10 "nearly lossless", broadcast mostly 6 to 9) and MediaLive's advice (8-10 big screens,
# 7 PCs and tablets, 6 phones), with top rungs' usual 93-95 at 7-8 and about a just-noticeable
# difference (6 points) per level and a half lower down.
QVBR_TARGETS = {10: 98, 9: 96, 8: 94, 7: 92, 6: 89, 5: 85, 4: 80, 3: 74, 2: 68, 1: 60}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rung_size(width, height):
    """The 720p rung's size for a source, even, keeping the aspect ratio; the source's own
    (even) size when it is smaller, as the ladder does without upscaling."""
    short = min(width, height)
    if short <= RUNG_SHORT_SIDE:
        return width - width % 2, height - height % 2
    scale = RUNG_SHORT_SIDE / short
    even = lambda v: int(round(v * scale / 2)) * 2  # noqa: E731
    return even(width), even(height)


def reference(source, width, height, out):
    """The source at the rung's size, as raw y4m: what every CRF is scored against."""
    quality.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(source), "-map", "0:v:0",
                 "-vf", f"scale={width}:{height}:flags=bicubic,format=yuv420p", "-f", "yuv4mpegpipe",
                 str(out)])


# Each encoder as the embedded transcoder runs it (host/embedded/src/ffmpeg/args.rs): the
# settings that decide bits, quality and time.
ENCODERS = {
    "x264": lambda gop: ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high",
                         "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"],
    "x265": lambda gop: ["-c:v", "libx265", "-preset", "ultrafast", "-profile:v", "main",
                         "-x265-params", f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:log-level=error"],
    "svt-av1": lambda gop: ["-c:v", "libsvtav1", "-preset", "10", "-g", str(gop)],
}


def encode(encoder, reference_y4m, crf, fps, out):
    """`encoder` as the embedded transcoder runs it, at `crf`, from the scaled reference."""
    gop = max(1, round(2 * fps))
    started = time.monotonic()
    quality.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(reference_y4m)]
                + ENCODERS[encoder](gop) + ["-pix_fmt", "yuv420p", "-crf", str(crf), "-f", "mp4", str(out)],
                env={**os.environ, "SVT_LOG": "1"})
    return time.monotonic() - started


def decode(encoded, out):
    quality.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(encoded), "-f", "yuv4mpegpipe",
                 "-pix_fmt", "yuv420p", str(out)])


def vmaf(vmaf_tool, reference_y4m, distorted_y4m, out_json):
    """Mean VMAF and mean luma PSNR over every picture (the per-picture mean: libvmaf 2.3.1's
    pooled mean is right without --subsample)."""
    quality.run([vmaf_tool, "--reference", str(reference_y4m), "--distorted", str(distorted_y4m),
                 "--model", f"version={MODEL}", "--feature", "psnr", "--threads", "2",
                 "--json", "--output", str(out_json), "--quiet"])
    frames = json.loads(Path(out_json).read_text())["frames"]
    mean = lambda key: statistics.fmean(f["metrics"][key] for f in frames)  # noqa: E731
    return mean("vmaf"), mean("psnr_y")


def crf_for_vmaf(curve, target):
    """The CRF at which the (CRF, VMAF) curve, VMAF falling as CRF rises, reaches `target`,
    linear between measured points; the nearest end outside them."""
    curve = sorted(curve)
    if target >= curve[0][1]:
        return curve[0][0]
    for (c0, v0), (c1, v1) in zip(curve, curve[1:]):
        if v0 >= target >= v1:
            return c0 + (c1 - c0) * (v0 - target) / (v0 - v1) if v0 != v1 else c0
    return curve[-1][0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", choices=sorted(ENCODERS), default="x264")
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--crf", type=lambda s: [int(x) for x in s.split(",") if x], default=[18, 21, 24, 27, 30, 33])
    parser.add_argument("--only", type=lambda s: [x for x in s.split(",") if x], default=[])
    parser.add_argument("--no-footage", action="store_true")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--json", type=Path, help="write every point here")
    parser.add_argument("--merge", type=Path, action="append", default=[],
                        help="points of an earlier run (its --json) to add to this one's")
    args = parser.parse_args()
    vmaf_tool = os.environ.get("VODPIPE_VMAF")
    if not vmaf_tool:
        sys.exit("crf: VODPIPE_VMAF must name libvmaf's vmaf tool (source scripts/setup.sh; ensure_vmaf)")
    work = args.work or Path(tempfile.mkdtemp(prefix="vodpipe-crf-"))
    corpus = work / "corpus"
    entries = quality.build_corpus(args, corpus)
    points = []
    for name, _stresses, source in entries:
        info = quality.probe(source)
        width, height = rung_size(info["width"], info["height"])
        seconds = info["seconds"]
        ref = work / f"{name}.{width}x{height}.y4m"
        if not ref.exists():
            reference(source, width, height, ref)
        for crf in args.crf:
            stem = work / f"{name}.{args.encoder}.crf{crf}"
            encoded = stem.with_suffix(".mp4")
            encode_seconds = encode(args.encoder, ref, crf, info["fps"] or 30, encoded)
            distorted = stem.with_suffix(".y4m")
            decode(encoded, distorted)
            score, psnr = vmaf(vmaf_tool, ref, distorted, stem.with_suffix(".json"))
            distorted.unlink()
            kbps = encoded.stat().st_size * 8 / 1000 / seconds
            points.append({"encoder": args.encoder, "clip": name, "width": width, "height": height, "crf": crf, "kbps": round(kbps),
                           "vmaf": round(score, 2), "psnr_y": round(psnr, 2),
                           "encode_seconds": round(encode_seconds, 2)})
            log(f"{name} {width}x{height} {args.encoder} crf {crf}: {kbps:.0f} kb/s, VMAF {score:.2f}, PSNR {psnr:.2f} dB")
    if args.json:
        args.json.write_text(json.dumps(points, indent=1) + "\n")
    for earlier in args.merge:
        points += json.loads(earlier.read_text())
    for point in points:
        point.setdefault("encoder", "x264")  # runs from before --encoder
    encoders = [e for e in ENCODERS if any(p["encoder"] == e for p in points)]
    for encoder in encoders:
        print_curves(encoder, [p for p in points if p["encoder"] == encoder])
    if "x264" in encoders and len(encoders) > 1:
        print_comparison(points, encoders)
    if args.crf:
        print(f"\n{len({p['clip'] for p in points})} clips, {args.seconds:g} s each, work in {work}", file=sys.stderr)


def print_curves(encoder, points):
    """Kb/s and VMAF per clip and CRF, the median curve, and the CRF per QVBR level."""
    crfs = sorted({p["crf"] for p in points})
    clips = sorted({p["clip"] for p in points})
    print(f"\n{encoder}:\n")
    print("| clip (size) | " + " | ".join(f"CRF {c}: kb/s, VMAF" for c in crfs) + " |")
    print("|---|" + "---|" * len(crfs))
    for clip in clips:
        row = {p["crf"]: p for p in points if p["clip"] == clip}
        size = next(f"{p['width']}x{p['height']}" for p in points if p["clip"] == clip)
        print(f"| {clip} ({size}) | " + " | ".join(
            f"{row[c]['kbps']}, {row[c]['vmaf']:.1f}" if c in row else "" for c in crfs) + " |")
    median = [(c, statistics.median(p["vmaf"] for p in points if p["crf"] == c)) for c in crfs]
    print("| **median VMAF** | " + " | ".join(f"{v:.1f}" for _, v in median) + " |")
    print("\n| QVBR level | target VMAF | CRF (median curve) |")
    print("|---|---|---|")
    for level, target in sorted(QVBR_TARGETS.items()):
        print(f"| {level} | {target} | {crf_for_vmaf(median, target):.1f} |")


def kbps_for_vmaf(curve, target):
    """The kb/s at which a clip's (kb/s, VMAF) points reach `target`: log-linear between the
    two measured points around it; None outside the measured range (no extrapolation)."""
    curve = sorted(curve)
    for (k0, v0), (k1, v1) in zip(curve, curve[1:]):
        if min(v0, v1) <= target <= max(v0, v1) and v0 != v1:
            t = (target - v0) / (v1 - v0)
            return math.exp(math.log(k0) + t * (math.log(k1) - math.log(k0)))
    return None


# The qualities bits are compared at: a top rung's usual VMAF and one just-noticeable
# difference below it.
COMPARED_AT = (93, 87)


def print_comparison(points, encoders):
    """Per clip and encoder: the bits that reach x264's quality (VMAF 93 and 87) as a share
    of x264's, and the median encode time over the CRFs both measured against x264's."""
    others = [e for e in encoders if e != "x264"]
    clips = sorted({p["clip"] for p in points})
    curve = lambda e, c: [(p["kbps"], p["vmaf"]) for p in points if p["encoder"] == e and p["clip"] == c]  # noqa: E731
    print("\nBits for equal VMAF and encode time, against x264 (kb/s of x264; share of it):\n")
    header = ["clip"] + [f"x264 kb/s at VMAF {t}" for t in COMPARED_AT]
    for e in others:
        header += [f"{e} at VMAF {t}" for t in COMPARED_AT] + [f"{e} encode time"]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    shares = {(e, t): [] for e in others for t in COMPARED_AT}
    times = {e: [] for e in others}
    for clip in clips:
        base = {t: kbps_for_vmaf(curve("x264", clip), t) for t in COMPARED_AT}
        row = [clip] + [f"{base[t]:.0f}" if base[t] else "–" for t in COMPARED_AT]
        for e in others:
            for t in COMPARED_AT:
                kbps = kbps_for_vmaf(curve(e, clip), t)
                if kbps and base[t]:
                    shares[(e, t)].append(kbps / base[t])
                    row.append(f"{kbps / base[t]:.0%}")
                else:
                    row.append("–")
            seconds = lambda encoder: [p["encode_seconds"] for p in points  # noqa: E731
                                       if p["encoder"] == encoder and p["clip"] == clip and "encode_seconds" in p]
            if seconds(e) and seconds("x264"):
                ratio = statistics.median(seconds(e)) / statistics.median(seconds("x264"))
                times[e].append(ratio)
                row.append(f"{ratio:.1f}x")
            else:
                row.append("–")  # a run merged from before encode times were kept
        print("| " + " | ".join(row) + " |")
    row = ["**median**", "", ""]
    for e in others:
        row += [f"{statistics.median(shares[(e, t)]):.0%}" if shares[(e, t)] else "–" for t in COMPARED_AT]
        row.append(f"{statistics.median(times[e]):.1f}x" if times[e] else "–")
    print("| " + " | ".join(row) + " |")
    print("\n(–: the clip's measured curve does not reach that VMAF.)")

if __name__ == "__main__":
    main()
