// Posting the presigned form: XMLHttpRequest, because fetch reports no upload progress.
import type { UploadTicket } from "./api";

export class UploadError extends Error {}

/** What S3 (or vodpipe's S3-compatible endpoint) said, in words for people. */
function explain(status: number, xml: string): string {
  const code = /<Code>([^<]+)<\/Code>/.exec(xml)?.[1] ?? "";
  const message = /<Message>([^<]+)<\/Message>/.exec(xml)?.[1] ?? "";
  if (code === "EntityTooLarge") return "The file is larger than the upload limit.";
  if (code === "AccessDenied" && /expired/i.test(message)) return "The upload form expired; please try again.";
  return `The upload was refused (${code || `HTTP ${status}`}${message ? `: ${message}` : ""}).`;
}

export function postUpload(ticket: UploadTicket, file: File, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
    form.append("file", file); // last, as S3 requires
    const request = new XMLHttpRequest();
    request.open("POST", ticket.url);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new UploadError(explain(request.status, request.responseText)));
      }
    };
    request.onerror = () => reject(new UploadError("The network failed during the upload; check the connection and try again."));
    request.ontimeout = request.onerror;
    request.send(form);
  });
}

const VIDEO_EXTENSIONS = ["mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg", "ts"];

/** Why `file` cannot be uploaded, or null. */
export function refuse(file: File, maxBytes: number): string | null {
  const extension = file.name.split(".").pop()?.toLowerCase() ?? "";
  if (!file.type.startsWith("video/") && !VIDEO_EXTENSIONS.includes(extension)) {
    return `“${file.name}” is not a video file (MP4, MOV, MKV, WebM…).`;
  }
  if (file.size === 0) return `“${file.name}” is empty.`;
  if (file.size > maxBytes) {
    return `“${file.name}” is ${(file.size / 1e6).toFixed(1)} MB; the limit is ${(maxBytes / 1e6).toFixed(0)} MB.`;
  }
  return null;
}
