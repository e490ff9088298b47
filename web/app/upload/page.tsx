"use client";

import Link from "next/link";
import { useState, type FormEvent } from "react";
import { api, ApiError, SessionExpired, type UploadTicket } from "@/lib/api";
import { loadConfig } from "@/lib/config";
import { postUpload, refuse, UploadError } from "@/lib/upload";
import { useSession } from "@/components/useSession";
import { Alert, buttonClass, inputClass } from "@/components/ui";

type Phase = { kind: "idle" } | { kind: "uploading"; fraction: number } | { kind: "done"; videoId: string };

export default function UploadPage() {
  const session = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const [error, setError] = useState<string | null>(null);
  const [expired, setExpired] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setExpired(false);
    if (!file) {
      setError("Choose a video file first.");
      return;
    }
    const refusal = refuse(file, (await loadConfig()).maxUploadBytes);
    if (refusal) {
      setError(refusal);
      return;
    }
    try {
      setPhase({ kind: "uploading", fraction: 0 });
      const ticket = await api<UploadTicket>("/api/uploads", { method: "POST", auth: true });
      await postUpload(ticket, file, (fraction) => setPhase({ kind: "uploading", fraction }));
      await api("/api/videos", { method: "POST", auth: true, body: { video_id: ticket.video_id, title, description } });
      setPhase({ kind: "done", videoId: ticket.video_id });
    } catch (e) {
      setPhase({ kind: "idle" });
      if (e instanceof SessionExpired) setExpired(true);
      else if (e instanceof UploadError || e instanceof ApiError) setError(e.message);
      else setError("The network failed; check the connection and try again.");
    }
  }

  if (session === null) {
    if (expired) {
      return (
        <Alert kind="error">
          Your session has expired.{" "}
          <Link href="/signin/?next=/upload/" className="underline">
            Sign in again
          </Link>{" "}
          and retry.
        </Alert>
      );
    }
    return (
      <Alert kind="info">
        <Link href="/signin/?next=/upload/" className="underline">
          Sign in
        </Link>{" "}
        to upload videos.
      </Alert>
    );
  }

  const uploading = phase.kind === "uploading";
  const percent = uploading ? Math.round(phase.fraction * 100) : 0;
  return (
    <form onSubmit={submit} className="max-w-xl space-y-4" aria-labelledby="upload-title">
      <h1 id="upload-title" className="text-2xl font-semibold">
        Upload a video
      </h1>
      {error && <Alert kind="error">{error}</Alert>}
      {phase.kind === "done" && (
        <Alert kind="success">
          Uploaded. It is being processed;{" "}
          <Link href="/me/" className="underline">
            follow it in My videos
          </Link>
          .
        </Alert>
      )}
      <label className="block">
        <span>Video file</span>
        <input
          className={inputClass}
          type="file"
          name="file"
          accept="video/*"
          required
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          disabled={uploading}
        />
      </label>
      <label className="block">
        <span>Title</span>
        <input
          className={inputClass}
          name="title"
          required
          maxLength={200}
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          disabled={uploading}
        />
      </label>
      <label className="block">
        <span>Description</span>
        <textarea
          className={inputClass}
          name="description"
          rows={4}
          maxLength={5000}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          disabled={uploading}
        />
      </label>
      {uploading && (
        <div>
          <label htmlFor="upload-progress" className="text-sm">
            Uploading… <span data-testid="upload-percent">{percent}%</span>
          </label>
          <progress id="upload-progress" className="block w-full" max={100} value={percent} />
        </div>
      )}
      <button type="submit" className={buttonClass} disabled={uploading}>
        {uploading ? "Uploading…" : "Upload"}
      </button>
    </form>
  );
}
