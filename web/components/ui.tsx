import type { ReactNode } from "react";

export function Alert({ kind, children }: { kind: "error" | "info" | "success"; children: ReactNode }) {
  const colors = {
    error: "border-red-300 bg-red-50 text-red-800",
    info: "border-blue-300 bg-blue-50 text-blue-800",
    success: "border-green-300 bg-green-50 text-green-800",
  }[kind];
  return (
    <div role={kind === "error" ? "alert" : "status"} className={`rounded border px-3 py-2 ${colors}`}>
      {children}
    </div>
  );
}

export const inputClass =
  "mt-1 block w-full rounded border border-slate-300 bg-white px-3 py-2 focus:border-blue-500 focus:outline-none";
export const buttonClass =
  "rounded bg-blue-600 px-4 py-2 font-medium text-white hover:bg-blue-700 disabled:cursor-not-allowed disabled:bg-slate-400";

export function StatusBadge({ status }: { status: string }) {
  const colors: Record<string, string> = {
    processing: "bg-amber-100 text-amber-800",
    done: "bg-green-100 text-green-800",
    failed: "bg-red-100 text-red-800",
  };
  return (
    <span data-testid="status" className={`rounded px-2 py-0.5 text-xs font-semibold ${colors[status] ?? ""}`}>
      {status}
    </span>
  );
}
