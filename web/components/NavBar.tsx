"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useSession } from "./useSession";
import { signOut } from "@/lib/auth";

export function NavBar() {
  const session = useSession();
  const router = useRouter();
  return (
    <header className="border-b border-slate-200 bg-white">
      <nav aria-label="Main" className="mx-auto flex max-w-5xl items-center gap-4 px-4 py-3">
        <Link href="/" className="text-lg font-semibold text-blue-700">
          vodpipe
        </Link>
        <Link href="/upload/" className="hover:underline">
          Upload
        </Link>
        <Link href="/me/" className="hover:underline">
          My videos
        </Link>
        <span className="flex-1" />
        {session === undefined ? null : session ? (
          <>
            <span data-testid="signed-in-as" className="text-sm text-slate-600">
              {session.username}
            </span>
            <button
              type="button"
              className="rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100"
              onClick={async () => {
                await signOut();
                router.push("/");
              }}
            >
              Sign out
            </button>
          </>
        ) : (
          <>
            <Link href="/signin/" className="hover:underline">
              Sign in
            </Link>
            <Link href="/signup/" className="rounded bg-blue-600 px-3 py-1 text-white hover:bg-blue-700">
              Sign up
            </Link>
          </>
        )}
      </nav>
    </header>
  );
}
