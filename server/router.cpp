#include "router.hpp"

#include <algorithm>

namespace dpost::server {

namespace {

// "/a/b" -> {"", "a", "b"}: empty segments are kept so that "/a/" and "/a" stay distinct routes.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (true) {
    auto slash = path.find('/', start);
    segments.push_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Literal segments are more specific than {params}: "/scans/batch" wins over "/scans/{id}" whatever the order
// of registration. The key orders routes by that rule, position by position.
std::string specificity_key(const std::vector<std::string>& segments) {
  std::string key;
  for (const auto& segment : segments) key.push_back(is_param(segment) ? 'P' : 'L');
  return key;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler, Exec exec) {
  std::vector<std::string> segments;
  for (auto segment : split_path(pattern)) segments.emplace_back(segment);
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(segments), std::move(handler), exec});
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  const auto parts = split_path(path);
  Match result;
  const Route* best = nullptr;
  std::string best_key;
  std::vector<std::string> allowed;

  for (const auto& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    bool matches = true;
    for (std::size_t i = 0; i < parts.size() && matches; ++i) {
      const auto& segment = route.segments[i];
      matches = is_param(segment) ? !parts[i].empty() : segment == parts[i];
    }
    if (!matches) continue;
    if (route.method != method) {
      if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) allowed.push_back(route.method);
      continue;
    }
    auto key = specificity_key(route.segments);
    if (best == nullptr || key < best_key) {
      best = &route;
      best_key = std::move(key);
    }
  }

  if (best != nullptr) {
    result.handler = &best->handler;
    result.exec = best->exec;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto& segment = best->segments[i];
      if (is_param(segment)) result.params.emplace_back(segment.substr(1, segment.size() - 2), std::string(parts[i]));
    }
    return result;
  }
  if (!allowed.empty()) {
    result.method_mismatch = true;
    for (const auto& name : allowed) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += name;
    }
  }
  return result;
}

std::vector<Router::RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) out.push_back({route.method, route.pattern});
  return out;
}

}  // namespace dpost::server
