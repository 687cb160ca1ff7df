#include "ui/dashboard.h"

#include <algorithm>

#include "ui/assets.h"

namespace gantry::ui {
namespace {

// Everything from this agent only: no external scripts, styles, fonts or connections.
constexpr std::string_view kPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const UiAsset* Find(std::string_view path) {
  std::span<const UiAsset> assets = UiAssets();
  auto found = std::find_if(assets.begin(), assets.end(),
                            [path](const UiAsset& asset) { return asset.path == path; });
  return found == assets.end() ? nullptr : &*found;
}

}  // namespace

http::Response ServeDashboard(const http::Request& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    http::Response response =
        http::JsonError(405, "method_not_allowed", "the dashboard is read-only");
    response.headers.emplace_back("Allow", "GET, HEAD");
    return response;
  }
  std::string_view path = request.Path().substr(kDashboardPath.size());
  if (path.empty()) {
    http::Response response;
    response.status = 301;
    response.headers.emplace_back("Location", "/ui/");
    return response;
  }
  if (!DashboardBuilt()) {
    return http::JsonError(
        501, "not_supported",
        "the dashboard is not built into this binary (built with -DGANTRY_UI=OFF)");
  }
  if (path == "/") path = "/index.html";
  const UiAsset* asset = Find(path);
  if (!asset) return http::JsonError(404, "not_found", "no such file in the dashboard");
  http::Response response;
  response.headers.emplace_back("ETag", std::string(asset->etag));
  response.headers.emplace_back("Cache-Control", path.starts_with("/assets/")
                                                     ? "public, max-age=31536000, immutable"
                                                     : "no-cache");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (request.Header("If-None-Match") == asset->etag) {
    response.status = 304;
    return response;
  }
  response.headers.emplace_back("Content-Type", std::string(asset->content_type));
  response.headers.emplace_back("Content-Security-Policy", std::string(kPolicy));
  response.body.assign(asset->body);
  return response;
}

bool DashboardBuilt() { return !UiAssets().empty(); }

}  // namespace gantry::ui
