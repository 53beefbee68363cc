// The table of model families and Model::load, which dispatches through it.
#include "model/registry.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "io/json_file.h"
#include "model/bamba.h"
#include "model/json_fields.h"

namespace bamba {

namespace {
const ModelFamily kFamilies[] = {
    {"bamba", &load_bamba},
};
}  // namespace

std::span<const ModelFamily> model_families() { return kFamilies; }

const ModelFamily& find_model_family(std::string_view model_type, const std::string& source) {
  std::string known;
  for (const ModelFamily& family : kFamilies) {
    if (family.model_type == model_type) return family;
    known += str_cat(known.empty() ? "" : ", ", '"', family.model_type, '"');
  }
  fail(source, ": key 'model_type': expected one of ", known, ", found \"", model_type, '"');
}

Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::filesystem::path& dir, const LoadOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) fail(dir.string(), ": not a model folder (no such directory)");
  const std::filesystem::path config_path = dir / "config.json";
  if (!std::filesystem::exists(config_path, ec)) fail(dir.string(), ": config.json is missing");
  const nlohmann::json config_json = io::read_json_file(config_path);
  const JsonFields fields(config_json, config_path.string());
  const std::optional<std::string> model_type = fields.optional_string("model_type");
  if (!model_type) fail(config_path.string(), ": key 'model_type' is missing");
  return find_model_family(*model_type, config_path.string()).load(dir, config_json, options);
}

}  // namespace bamba
