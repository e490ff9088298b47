"use client";

import { useEffect, useState } from "react";
import { currentSession, SESSION_EVENT, type Session } from "@/lib/auth";

/** The session, following sign-in and sign-out in this tab and others; undefined until read. */
export function useSession(): Session | null | undefined {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    const update = () => setSession(currentSession());
    update();
    window.addEventListener(SESSION_EVENT, update);
    window.addEventListener("storage", update);
    return () => {
      window.removeEventListener(SESSION_EVENT, update);
      window.removeEventListener("storage", update);
    };
  }, []);
  return session;
}
