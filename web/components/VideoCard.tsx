import Link from "next/link";
import type { Video } from "@/lib/api";

export function VideoCard({ video }: { video: Video }) {
  const title = video.title ?? "Untitled";
  return (
    <li>
      <Link href={`/watch/?v=${encodeURIComponent(video.id)}`} className="group block rounded-lg bg-white shadow-sm ring-1 ring-slate-200 hover:ring-blue-400">
        <div className="aspect-video overflow-hidden rounded-t-lg bg-slate-200">
          {video.thumbnail_url ? (
            // eslint-disable-next-line @next/next/no-img-element
            <img src={video.thumbnail_url} alt="" className="h-full w-full object-cover" loading="lazy" />
          ) : null}
        </div>
        <div className="p-3">
          <h2 className="truncate font-medium group-hover:text-blue-700">{title}</h2>
          <p className="text-xs text-slate-500">{new Date(video.created_at).toLocaleString()}</p>
        </div>
      </Link>
    </li>
  );
}
