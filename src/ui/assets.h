// The dashboard's built files (ui/, built with npm by CMake), embedded in the binary so that
// the agent serves /ui/ with nothing else installed. The list is generated at build time
// (cmake/embed_files.cmake); it is empty in a build without the dashboard (-DGANTRY_UI=OFF).
#pragma once

#include <span>
#include <string_view>

namespace gantry::ui {

struct UiAsset {
  std::string_view path;  // "/index.html", "/assets/index-1a2b3c4d.js"
  std::string_view content_type;
  std::string_view body;
  std::string_view etag;  // quoted: a digest of the body
};

std::span<const UiAsset> UiAssets();

}  // namespace gantry::ui
