// Errors are values: absl::Status / absl::StatusOr<T> and the macros that propagate them,
// plus the invariant checks (CHECK always, DCHECK in debug, BUG logs and counts in release).
#pragma once

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gantry {
// Debian's abseil has its own string_view type; this hands the message to fmt and std code.
inline std::string_view StatusMessage(const absl::Status& status) {
  return {status.message().data(), status.message().size()};
}
}  // namespace gantry

namespace gantry::internal {
[[noreturn]] void CheckFailed(const char* condition, const char* file, int line);
void BugReported(const char* what, const char* file, int line);
}  // namespace gantry::internal

#define GANTRY_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status gantry_status_ = (expr);          \
    if (!gantry_status_.ok()) return gantry_status_; \
  } while (0)

#define GANTRY_STATUS_CONCAT_INNER(a, b) a##b
#define GANTRY_STATUS_CONCAT(a, b) GANTRY_STATUS_CONCAT_INNER(a, b)
#define GANTRY_ASSIGN_OR_RETURN(lhs, rexpr) \
  GANTRY_ASSIGN_OR_RETURN_IMPL(GANTRY_STATUS_CONCAT(gantry_statusor_, __LINE__), lhs, rexpr)
// `lhs` may be a declaration ("HostPort address"), so it cannot be parenthesized.
#define GANTRY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) /* NOLINT(bugprone-macro-parentheses) */ \
  auto tmp = (rexpr);                                 /* NOLINT(bugprone-macro-parentheses) */ \
  if (!tmp.ok()) return std::move(tmp).status();      /* NOLINT(bugprone-macro-parentheses) */ \
  lhs = std::move(tmp).value()                        /* NOLINT(bugprone-macro-parentheses) */

#define GANTRY_CHECK(cond) \
  ((cond) ? (void)0 : ::gantry::internal::CheckFailed(#cond, __FILE__, __LINE__))
#ifdef NDEBUG
#define GANTRY_DCHECK(cond) ((void)sizeof(cond))
#else
#define GANTRY_DCHECK(cond) GANTRY_CHECK(cond)
#endif
#define GANTRY_BUG(what) ::gantry::internal::BugReported(what, __FILE__, __LINE__)
