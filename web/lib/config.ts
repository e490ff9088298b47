// The runtime configuration: /config.json, written by `vodpipe serve` (embedded mode) or by
// Terraform (AWS mode), so one build serves both.

export type Config = {
  mode: "embedded" | "aws";
  /** Prefix of API paths: "" for the same origin, or the API Gateway URL. */
  apiBaseUrl: string;
  maxUploadBytes: number;
  /** AWS mode. `endpoint` overrides the user pool API's URL (a local peer in tests). */
  cognito?: { region: string; userPoolId: string; clientId: string; endpoint?: string };
};

let loading: Promise<Config> | null = null;

export function loadConfig(): Promise<Config> {
  loading ??= fetch("/config.json", { cache: "no-store" })
    .then((response) => {
      if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
      return response.json() as Promise<Config>;
    })
    .then((config) => ({ ...config, apiBaseUrl: (config.apiBaseUrl ?? "").replace(/\/$/, "") }))
    .catch((error) => {
      loading = null;
      throw error;
    });
  return loading;
}
