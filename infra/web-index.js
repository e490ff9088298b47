// CloudFront viewer-request function for the web front end: the static export has one
// directory per page (`upload/index.html`), and S3 behind origin access control serves no
// index documents. `/upload/` → `/upload/index.html`; `/upload` → redirect to `/upload/`.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith("/")) {
    request.uri = uri + "index.html";
    return request;
  }
  var last = uri.substring(uri.lastIndexOf("/") + 1);
  if (last.indexOf(".") === -1) {
    var query = Object.keys(request.querystring)
      .map(function (name) {
        return name + "=" + request.querystring[name].value;
      })
      .join("&");
    return {
      statusCode: 301,
      statusDescription: "Moved Permanently",
      headers: { location: { value: uri + "/" + (query ? "?" + query : "") } },
    };
  }
  return request;
}
