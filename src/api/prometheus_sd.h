// GET /api/v1/sd/prometheus: every healthy replica as a Prometheus HTTP service discovery
// target group ([{"targets": ["host:port"], "labels": {...}}]), so that a Prometheus server
// scrapes the app's replicas wherever gantry put them. Labels: service, instance, and
// __meta_gantry_service / __meta_gantry_instance / __meta_gantry_tags for relabeling.
// Control-plane thread only.
#pragma once

#include "http/message.h"
#include "registry/registry.h"

namespace gantry::api {

http::Response PrometheusTargets(const registry::Registry& registry);

}  // namespace gantry::api
