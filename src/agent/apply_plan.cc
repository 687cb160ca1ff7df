#include "agent/apply_plan.h"

#include <boost/json.hpp>

#include "api/json_http.h"
#include "config/app_diff.h"
#include "config/app_file.h"

namespace gantry::agent {

ApplyPlan PlanApply(const config::AppSpec& running, const std::string& text) {
  namespace json = boost::json;
  ApplyPlan plan;
  config::AppFileResult parsed = config::ParseAppFile(text, running.file, running.directory);
  if (!parsed.errors.empty()) {
    json::array errors;
    for (const auto& error : parsed.errors) errors.emplace_back(error.ToString());
    plan.refused = api::Json(json::object{{"error", parsed.errors[0].ToString()},
                                          {"code", "invalid_app_file"},
                                          {"errors", std::move(errors)}},
                             0, 400);
    return plan;
  }
  plan.next = std::make_unique<config::AppSpec>(std::move(*parsed.spec));
  std::vector<config::AppChange> changes = config::DiffApps(running, *plan.next);
  json::array listed;
  for (const auto& change : changes) {
    json::array fields;
    for (const std::string& field : change.fields) fields.emplace_back(field);
    listed.emplace_back(json::object{{"kind", config::ChangeKindName(change.kind)},
                                     {"service", change.service},
                                     {"detail", change.detail},
                                     {"fields", std::move(fields)}});
    if (change.kind == config::AppChange::Kind::kReplace) plan.replace.insert(change.service);
    if (change.kind == config::AppChange::Kind::kListen) plan.listen_changed = true;
  }
  plan.changed = !changes.empty();
  plan.answer = json::object{{"changes", listed}, {"text", config::DescribeChanges(changes)}};
  return plan;
}

}  // namespace gantry::agent
