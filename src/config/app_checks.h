// Checks across the whole app file, once every block has been read: names that must refer to
// a service, a dependency cycle, duplicate routes. Internal to config/.
#pragma once

#include <string>
#include <vector>

#include "config/app_spec.h"

namespace gantry::config {

class Diagnostics;

// Every place the file names a service, recorded while parsing.
class References {
 public:
  void Add(std::string service, Location at, std::string path) {
    refs_.push_back({std::move(service), at, std::move(path)});
  }

 private:
  friend void CheckReferences(const AppSpec&, const References&, Diagnostics&);
  struct Ref {
    std::string service;
    Location at;
    std::string path;
  };
  std::vector<Ref> refs_;
};

void CheckReferences(const AppSpec& spec, const References& refs, Diagnostics& diag);

}  // namespace gantry::config
