// GET /ui/...: the dashboard's files, from the binary (ui/assets.h). /ui redirects to /ui/,
// which is index.html; the hashed files under /ui/assets/ are cached for a year, index.html is
// revalidated (ETag) every time. A content security policy keeps the page to this agent.
// Any thread (reads only constant data).
#pragma once

#include <string_view>

#include "http/message.h"

namespace gantry::ui {

inline constexpr std::string_view kDashboardPath = "/ui";

// `request`'s path is /ui or under /ui/.
http::Response ServeDashboard(const http::Request& request);
// Whether this binary has the dashboard's files (not one built with -DGANTRY_UI=OFF).
bool DashboardBuilt();

}  // namespace gantry::ui
