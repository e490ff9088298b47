"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { confirmSignUp, signIn, signUp } from "@/lib/auth";
import { Alert, buttonClass, inputClass } from "./ui";

/** Sign-in and sign-up: one form, labelled fields, Enter submits. */
export function AuthForm({ mode }: { mode: "signin" | "signup" }) {
  const router = useRouter();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const title = mode === "signin" ? "Sign in" : "Sign up";

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      if (confirming) {
        await confirmSignUp(username, code);
        await signIn(username, password);
      } else if (mode === "signup") {
        if ((await signUp(username, password)) === "confirm") {
          setConfirming(true);
          return;
        }
      } else {
        await signIn(username, password);
      }
      const next = new URLSearchParams(window.location.search).get("next");
      router.push(next && next.startsWith("/") ? next : "/");
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="mx-auto max-w-sm space-y-4" aria-labelledby="auth-title">
      <h1 id="auth-title" className="text-2xl font-semibold">
        {title}
      </h1>
      {error && <Alert kind="error">{error}</Alert>}
      {confirming && <Alert kind="info">We mailed you a confirmation code.</Alert>}
      <label className="block">
        <span>Username or email</span>
        <input
          className={inputClass}
          name="username"
          autoComplete="username"
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          disabled={confirming}
        />
      </label>
      <label className="block">
        <span>Password</span>
        <input
          className={inputClass}
          name="password"
          type="password"
          autoComplete={mode === "signin" ? "current-password" : "new-password"}
          required
          minLength={mode === "signup" ? 8 : undefined}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          disabled={confirming}
        />
      </label>
      {confirming && (
        <label className="block">
          <span>Confirmation code</span>
          <input className={inputClass} name="code" required value={code} onChange={(e) => setCode(e.target.value)} />
        </label>
      )}
      <button type="submit" className={buttonClass} disabled={busy}>
        {busy ? "Please wait…" : title}
      </button>
    </form>
  );
}
