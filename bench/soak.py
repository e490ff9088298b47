#!/usr/bin/env python3
"""The soak of bench/soak.sh: uploads through `vodpipe serve` under kills, a second worker
and a full disk, then checks that nothing was lost, doubled, orphaned or corrupted.

Standard library only. Everything runs on 127.0.0.1.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

PASSWORD = "soak password 1"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """`vodpipe serve` and a second `vodpipe worker` on one data directory, killed and
    restarted on demand."""

    def __init__(self, vodpipe, data, work, port):
        self.vodpipe, self.data, self.work, self.port = vodpipe, data, work, port
        self.server = None
        self.worker = None
        self.lock = threading.Lock()
        self.kills = {"serve": 0, "worker": 0}
        self.killed_pids = []

    def _spawn(self, name, args):
        out = open(self.work / f"{name}.log", "ab")
        env = dict(os.environ, VODPIPE_LOG=os.environ.get("VODPIPE_LOG", "warn"))
        return subprocess.Popen([self.vodpipe, *args], stdout=out, stderr=out, env=env)

    def start_server(self):
        with self.lock:
            self.server = self._spawn(
                "serve",
                ["serve", "--addr", f"127.0.0.1:{self.port}", "--data", str(self.data), "--visibility", "10"],
            )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("vodpipe serve did not come up in 60 s (see serve.log)")

    def start_worker(self):
        with self.lock:
            self.worker = self._spawn("worker", ["worker", "--out", str(self.data), "--visibility", "10"])

    def kill(self, which):
        with self.lock:
            process = self.server if which == "serve" else self.worker
            process.send_signal(signal.SIGKILL)
            process.wait()
            self.killed_pids.append(process.pid)
            self.kills[which] += 1
        log(f"killed {which} (pid {process.pid})")

    def vodpipe_pids(self):
        with self.lock:
            return {p.pid for p in (self.server, self.worker) if p and p.poll() is None}

    def stop(self):
        with self.lock:
            for process in (self.server, self.worker):
                if process and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in (self.server, self.worker):
                if process:
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()


class Api:
    """The uploader's side: a client that retries what a real client would."""

    def __init__(self, port):
        self.port = port
        self.token = None
        self.retries = 0
        self.refusals = {}

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, data

    def json(self, method, path, body):
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        status, data = self.request(method, path, json.dumps(body).encode(), headers)
        return status, (json.loads(data) if data else None)

    def until_answered(self, call):
        """Retries through a dead server: connection refused or reset mid-request."""
        while True:
            try:
                return call()
            except (OSError, http.client.HTTPException):
                self.retries += 1
                time.sleep(0.3)

    def sign_in(self):
        def attempt():
            for path in ("/api/auth/signup", "/api/auth/signin"):
                status, body = self.json("POST", path, {"username": "soak", "password": PASSWORD})
                if status in (200, 201):
                    self.token = body["access_token"]
                    return True
                if status == 429:
                    time.sleep(2)
                    return False
            return False

        while not self.until_answered(attempt):
            pass

    def authorized(self, method, path, body):
        while True:
            status, answer = self.until_answered(lambda: self.json(method, path, body))
            if status == 401:
                self.sign_in()
                continue
            return status, answer

    def upload(self, clip, slow):
        """Asks for a form and posts the clip with it, again with a new form until stored.
        `slow` sends the file in small timed chunks so that kills land mid-upload."""
        while True:
            status, ticket = self.authorized("POST", "/api/uploads", {})
            if status != 201:
                self.count(f"presign {status}")
                time.sleep(0.5)
                continue
            try:
                status = self.post_form(ticket, clip, slow)
            except (OSError, http.client.HTTPException):
                self.retries += 1
                time.sleep(0.3)
                continue
            if status in (200, 201, 204):
                return ticket["video_id"]
            self.count(f"upload {status}")
            time.sleep(0.5)

    def post_form(self, ticket, clip, slow):
        boundary = f"soak{random.getrandbits(64):x}"
        head = b""
        for name, value in ticket["fields"].items():
            head += (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            ).encode()
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="clip.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.putrequest("POST", "/upload")
        conn.putheader("content-type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("content-length", str(len(head) + len(clip) + len(tail)))
        conn.endheaders()
        conn.send(head)
        step = 64 * 1024
        for offset in range(0, len(clip), step):
            conn.send(clip[offset : offset + step])
            if slow:
                time.sleep(0.01)
        conn.send(tail)
        status = conn.getresponse().status
        conn.close()
        return status

    def describe(self, video_id, title):
        body = {"video_id": video_id, "title": title, "description": "soak"}
        while True:
            status, _ = self.authorized("POST", "/api/videos", body)
            # 409: an earlier attempt got through, its answer was lost with the server.
            if status in (201, 409):
                return
            self.count(f"describe {status}")
            time.sleep(0.5)

    def my_videos(self):
        videos, cursor = [], None
        while True:
            path = "/api/me/videos?limit=100" + (f"&cursor={cursor}" if cursor else "")
            _, page = self._get(path)
            videos += page["videos"]
            cursor = page.get("next_cursor")
            if not cursor:
                return videos

    def _get(self, path):
        while True:
            headers = {"authorization": f"Bearer {self.token}"}
            status, data = self.until_answered(lambda: self.request("GET", path, None, headers))
            if status == 401:
                self.sign_in()
                continue
            if status == 200:
                return status, json.loads(data)
            time.sleep(0.5)

    def count(self, what):
        self.refusals[what] = self.refusals.get(what, 0) + 1


class Watch(threading.Thread):
    """Samples /proc: ffmpeg processes writing under the data directory. Two alive for one
    video at once is a second writer; one whose parent is not a live vodpipe for a second
    is an orphan."""

    def __init__(self, data, processes):
        super().__init__(daemon=True)
        self.data, self.processes = str(data), processes
        self.stop = threading.Event()
        self.double_writers = set()
        self.orphans = set()
        self.seen_ffmpeg = 0
        self._first_orphan_sight = {}

    def run(self):
        seen = set()
        while not self.stop.wait(0.2):
            by_video = {}
            parents = self.processes.vodpipe_pids()
            for pid, ppid, cmdline in ffmpeg_processes(self.data):
                seen.add(pid)
                video = next((a.split("/media/")[1].split("/")[0] for a in cmdline if "/media/" in a), None)
                if video:
                    by_video.setdefault(video, set()).add(pid)
                if ppid not in parents:
                    first = self._first_orphan_sight.setdefault(pid, time.time())
                    if time.time() - first > 1.0:
                        self.orphans.add(pid)
            for video, pids in by_video.items():
                if len(pids) > 1:
                    self.double_writers.add(video)
            self.seen_ffmpeg = len(seen)


def ffmpeg_processes(data):
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            if not cmdline or not cmdline[0].endswith(b"ffmpeg"):
                continue
            args = [a.decode(errors="replace") for a in cmdline]
            if not any(data in a for a in args):
                continue
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            yield int(entry), ppid, args
        except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
            continue


def make_clips(work, seconds):
    """Three good 720p clips (different content) and two bad files."""
    clips = []
    sources = [
        f"testsrc2=size=1280x720:rate=30:duration={seconds}",
        f"mandelbrot=size=1280x720:rate=30,trim=duration={seconds}",
        f"life=size=1280x720:rate=30:mold=10:ratio=0.1:death_color=#C83232,trim=duration={seconds}",
    ]
    for i, source in enumerate(sources):
        path = work / f"good{i}.mp4"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-f", "lavfi", "-i",
             f"sine=frequency={300 + 200 * i}:duration={seconds}", "-c:v", "libx264", "-preset", "veryfast",
             "-b:v", "2M", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
            check=True,
        )
        clips.append(("good", path.read_bytes()))
    clips.append(("bad", random.Random(7).randbytes(300_000)))
    clips.append(("bad", clips[0][1][: len(clips[0][1]) // 3]))
    return clips


def fill_disk(data, hold, stop):
    """Fills the data directory's filesystem to the last 256 KiB for `hold` seconds."""
    filler = Path(data) / "filler"
    free = shutil.disk_usage(data).free
    try:
        with open(filler, "wb") as f:
            f.truncate(0)
            chunk = b"\0" * (1 << 20)
            remaining = max(0, free - 256 * 1024)
            while remaining > 0:
                f.write(chunk[: min(len(chunk), remaining)])
                remaining -= len(chunk)
    except OSError:
        pass
    log(f"disk full (free {shutil.disk_usage(data).free} bytes) for {hold:.1f} s")
    stop.wait(hold)
    filler.unlink(missing_ok=True)
    log("disk freed")


def check_media(data, video_id, seconds):
    """Every playlist, segment and the thumbnail of a done video: present and readable."""
    problems = []
    root = Path(data) / "media" / video_id
    master = root / "index.m3u8"
    if not master.exists():
        return [f"{video_id}: no master playlist"]
    variants = [line for line in master.read_text().splitlines() if line and not line.startswith("#")]
    if not variants:
        problems.append(f"{video_id}: master playlist names no variant")
    for variant in variants:
        playlist = root / variant
        if not playlist.exists():
            problems.append(f"{video_id}: {variant} missing")
            continue
        lines = playlist.read_text().splitlines()
        if "#EXT-X-ENDLIST" not in lines:
            problems.append(f"{video_id}: {variant} has no EXT-X-ENDLIST")
        for segment in (line for line in lines if line and not line.startswith("#")):
            path = root / segment
            if not path.exists() or path.stat().st_size == 0:
                problems.append(f"{video_id}: segment {segment} missing or empty")
        read = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(playlist)],
            capture_output=True, text=True,
        )
        try:
            duration = float(read.stdout.strip())
        except ValueError:
            duration = -1
        if read.stderr.strip() or abs(duration - seconds) > 1.0:
            problems.append(f"{video_id}: {variant} reads back as {duration} s: {read.stderr.strip()[:200]}")
    if not any((root / "thumbnails").glob("*.jpg")):
        problems.append(f"{video_id}: no thumbnail")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vodpipe", required=True)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--full-disk", type=int, default=0)
    parser.add_argument("--in-flight", type=int, default=3, help="uploads waiting or encoding at once")
    args = parser.parse_args()
    rng = random.Random(2026)
    started = time.time()

    clips = make_clips(args.work, args.seconds)
    processes = Processes(args.vodpipe, args.data, args.work, free_port())
    processes.start_server()
    processes.start_worker()
    watch = Watch(args.data, processes)
    watch.start()
    api = Api(processes.port)
    api.sign_in()

    # Kills at random numbers of finished uploads, spread over the whole run; each one
    # restarts what it killed after a short pause. A quarter of them hit the worker.
    kill_points = sorted(rng.sample(range(1, max(args.uploads, args.kills + 1)), args.kills))
    disk_points = sorted(rng.sample(range(1, args.uploads), 2)) if args.full_disk and args.uploads > 2 else []
    stop = threading.Event()
    expected = {}  # video id -> "good" | "bad"

    def chaos(uploaded):
        while kill_points and uploaded >= kill_points[0]:
            kill_points.pop(0)
            time.sleep(rng.uniform(0, 3))
            which = "worker" if rng.random() < 0.25 else "serve"
            processes.kill(which)
            time.sleep(rng.uniform(0.2, 1.5))
            processes.start_server() if which == "serve" else processes.start_worker()
        while disk_points and uploaded >= disk_points[0]:
            disk_points.pop(0)
            threading.Thread(target=fill_disk, args=(args.data, rng.uniform(2, 5), stop), daemon=True).start()

    chaos_thread = None
    for i in range(args.uploads):
        # Nine good clips (of three kinds) in ten, then a bad one (of two kinds).
        kind, clip = clips[i % 3] if i % 10 != 9 else clips[3 + (i // 10) % 2]
        # At most `in_flight` unfinished videos: uploads and encodes interleave all along.
        while sum(1 for v in api.my_videos() if v["status"] == "processing") >= args.in_flight:
            time.sleep(0.5)
        if chaos_thread is None or not chaos_thread.is_alive():
            chaos_thread = threading.Thread(target=chaos, args=(i,), daemon=True)
            chaos_thread.start()
        video_id = api.upload(clip, slow=rng.random() < 0.5)
        api.describe(video_id, f"soak {i}")
        expected[video_id] = kind
        if (i + 1) % 10 == 0:
            log(f"{i + 1}/{args.uploads} uploaded")
    if chaos_thread:
        chaos_thread.join()
    while kill_points:
        chaos(args.uploads)

    deadline = time.time() + 600 + 30 * args.seconds
    while True:
        videos = {v["id"]: v for v in api.my_videos()}
        if all(videos.get(v, {}).get("status") not in (None, "processing") for v in expected):
            break
        if time.time() > deadline:
            break
        time.sleep(1)
    processes.stop()
    watch.stop.set()
    watch.join()
    stop.set()

    problems = []
    for video_id, kind in expected.items():
        video = videos.get(video_id)
        status = video["status"] if video else "missing"
        want = "done" if kind == "good" else "failed"
        if status != want:
            problems.append(f"{video_id}: {kind} clip ended {status}: {video and video.get('failure_reason')}")
        elif kind == "good":
            problems += check_media(args.data, video_id, args.seconds)
    stray_uploads = [p.name for p in (args.data / "uploads").iterdir()] if (args.data / "uploads").exists() else []
    # A published video keeps its directory and its job's lock file (media/<id>.lock).
    stray_media = [
        p.name for p in (args.data / "media").iterdir() if expected.get(p.name.removesuffix(".lock")) != "good"
    ]
    problems += [f"stray upload {name}" for name in stray_uploads]
    problems += [f"stray media {name}" for name in stray_media]
    problems += [f"{video}: two ffmpeg writers at once" for video in sorted(watch.double_writers)]
    problems += [f"orphaned ffmpeg pid {pid}" for pid in sorted(watch.orphans)]
    time.sleep(1)
    left = list(ffmpeg_processes(str(args.data)))
    problems += [f"ffmpeg pid {pid} still running after the stop" for pid, _, _ in left]

    summary = {
        "uploads": args.uploads,
        "clip_seconds": args.seconds,
        "good": sum(1 for k in expected.values() if k == "good"),
        "bad": sum(1 for k in expected.values() if k == "bad"),
        "done": sum(1 for v in expected if videos.get(v, {}).get("status") == "done"),
        "failed": sum(1 for v in expected if videos.get(v, {}).get("status") == "failed"),
        "kills": processes.kills,
        "full_disk_phases": 2 if args.full_disk and args.uploads > 2 else 0,
        "client_retries": api.retries,
        "client_refusals": api.refusals,
        "ffmpeg_processes_seen": watch.seen_ffmpeg,
        "problems": problems,
        "wall_seconds": round(time.time() - started, 1),
    }
    print(json.dumps(summary, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
