/** A static export: plain files that `vodpipe serve` (embedded) or CloudFront (AWS) serve.
 * Every page is a directory with an index.html (trailing slashes), which both serve
 * without rewrites of their own. */
const config = {
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
};

export default config;
