#include "input/records.h"

#include <simdjson.h>

namespace braid::rt::detail {

namespace {
// True when nothing but whitespace follows the value just read (simdjson 3.0.1's document has no at_end()).
[[maybe_unused]] bool at_document_end(simdjson::ondemand::document& doc) {
  auto loc = doc.current_location();
  return loc.error() != simdjson::SUCCESS;
}
}  // namespace

static_assert(kRecordPadding == simdjson::SIMDJSON_PADDING, "kRecordPadding must equal SIMDJSON_PADDING");

struct ArraySplitter::Impl {
  simdjson::ondemand::parser parser;
};

ArraySplitter::ArraySplitter() : impl_(std::make_unique<Impl>()) {}
ArraySplitter::~ArraySplitter() = default;

bool ArraySplitter::split(const char* data, size_t size, InputFormat format, std::vector<ElementSpan>& out,
                          InputErrorKind& kind, std::string& reason, size_t& bad_element) {
  using namespace simdjson;
  bad_element = 0;
  auto fail = [&](error_code e) {
    kind = e == UTF8_ERROR ? InputErrorKind::InvalidUtf8 : InputErrorKind::MalformedJson;
    reason = error_message(e);
    return false;
  };
  ondemand::document doc;
  if (auto e = impl_->parser.iterate(padded_string_view(data, size, size + simdjson::SIMDJSON_PADDING)).get(doc)) return fail(e);
  size_t index = 0;
  auto split_array = [&](ondemand::array& arr) -> bool {
    for (auto element : arr) {
      bad_element = index;
      ondemand::value v;
      if (auto e = std::move(element).get(v)) return fail(e);
      std::string_view raw;
      ondemand::json_type t;
      if (auto e = v.type().get(t)) return fail(e);
      if (t == ondemand::json_type::object) {
        ondemand::object o;
        if (auto e = v.get_object().get(o)) return fail(e);
        if (auto e = o.raw_json().get(raw)) return fail(e);
      } else if (t == ondemand::json_type::array) {
        ondemand::array a;
        if (auto e = v.get_array().get(a)) return fail(e);
        if (auto e = a.raw_json().get(raw)) return fail(e);
      } else {
        raw = v.raw_json_token();  // a scalar element: handed out as is (the extractor reports "not an object")
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
          raw.remove_suffix(1);
      }
      out.push_back(ElementSpan{static_cast<size_t>(raw.data() - data), raw.size()});
      ++index;
    }
    bad_element = index;
    return true;
  };
  if (format == InputFormat::CloudTrailRecords) {
    ondemand::object obj;
    if (auto e = doc.get_object().get(obj)) return fail(e);
    bool seen = false;
    for (auto field : obj) {
      ondemand::field f;
      if (auto e = std::move(field).get(f)) return fail(e);
      if (seen || !f.key().is_equal("Records")) continue;  // other keys are skipped (first "Records" wins)
      seen = true;
      ondemand::array arr;
      if (auto e = f.value().get_array().get(arr)) {
        if (e != INCORRECT_TYPE) return fail(e);
        kind = InputErrorKind::NotObject;
        reason = "\"Records\" is not an array";
        return false;
      }
      if (!split_array(arr)) return false;
    }
  } else {
    ondemand::array arr;
    if (auto e = doc.get_array().get(arr)) return fail(e);
    if (!split_array(arr)) return false;
  }
  if (!at_document_end(doc)) {
    kind = InputErrorKind::MalformedJson;
    reason = "trailing content after the top-level JSON value";
    return false;
  }
  return true;
}

}  // namespace braid::rt::detail
