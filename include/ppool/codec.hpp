#pragma once

// The codec of typed tasks: how a C++ value becomes the string item a worker
// receives, and a result string becomes a value again.
//
//   * Numbers, bool and std::string, as a whole item, are text: an integer in
//     decimal, a float or double in the shortest form that reads back to the
//     same value (std::to_chars), "nan", "inf" and "-inf" included, a bool as
//     "true" or "false", a string as its bytes, NULs and newlines included.
//     A typed task over such values is therefore also an ordinary string task:
//     `seq 5 | ppool imap --task square` and `pool.apply("square", "12")` call
//     it, and its results read as text in every output format.
//   * Every other value is one CBOR document (RFC 8949), made and read by
//     nlohmann/json. JSON text would be the obvious choice, but it cannot
//     hold a std::string exactly: JSON strings are Unicode, and a string of
//     arbitrary bytes (not UTF-8) can be neither dumped nor read back as it
//     was. CBOR has JSON's data model, so every type nlohmann/json converts
//     (`to_json`/`from_json` found by ADL, NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE,
//     or an `nlohmann::adl_serializer` specialization) travels through it,
//     and it keeps what JSON text loses: strings are stored with their bytes
//     as they are, integers as 64-bit integers (signed or unsigned), floating
//     point numbers as binary IEEE values (infinities, -0.0 and denormals
//     included). It is also what nlohmann/json, already one of ppool's
//     dependencies, reads and writes without anything more.
//
// The standard types the codec knows itself, nested in any way: integers
// (signed char to 64 bits, unsigned too), float, double, bool, std::string,
// std::vector, std::array, std::optional, std::pair, std::tuple, std::map,
// std::unordered_map, std::set and std::unordered_set. In a CBOR document a
// vector, array, set, pair or tuple is an array; an optional is an array of
// no or one element (so that an optional of an optional stays exact); a map
// is an array of [key, value] arrays (so that any key type works). Decoding
// them is strict: an integer out of the target's range, a fraction where an
// integer is expected, a bool for a number, the wrong number of elements, a
// duplicate key or bytes after the document are errors (CodecError), never
// silent conversions. Any other type goes to nlohmann/json, whose rules
// (lenient ones included) then apply to it and everything inside it.
//
// Not encodable, and a compile error where they are used: char and the other
// character types (use std::string, or an integer type), long double (wider
// than any number CBOR holds), pointers, and types nlohmann/json cannot
// convert. A NaN stays a NaN, but its sign and payload are not promised
// (CBOR documents hold one NaN). A string that is not UTF-8 is kept exactly,
// but makes a CBOR document that strict CBOR readers outside ppool may refuse.
//
// This header and <ppool/typed.hpp> include <nlohmann/json.hpp>; the CMake
// package finds nlohmann_json for the programs that use them. The rest of
// ppool's public headers do not.

#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ppool/errors.hpp"

namespace ppool {

/// A string that is not an encoding of the type asked for: what is wrong,
/// and where in the value (`[2][0]`: element 0 of element 2).
class CodecError : public Error {
public:
    /// `message` about the value at `path` (empty for the value itself);
    /// what() says both.
    explicit CodecError(std::string message, std::string path = {})
        : Error(path.empty() ? message : "at " + path + ": " + message), m_message(std::move(message)),
          m_path(std::move(path)) {}
    /// What is wrong, without the place.
    const std::string& message() const { return m_message; }
    /// Where in the value; empty for the value itself.
    const std::string& path() const { return m_path; }
    /// The same error one level down, inside `where` (such as "[3]").
    CodecError inside(const std::string& where) const { return CodecError(m_message, where + m_path); }

private:
    std::string m_message;
    std::string m_path;
};

namespace detail {

using Json = nlohmann::json;

template <class T, template <class...> class Template>
inline constexpr bool is_instance_of = false;
template <template <class...> class Template, class... Ts>
inline constexpr bool is_instance_of<Template<Ts...>, Template> = true;

template <class T>
inline constexpr bool is_std_array = false;
template <class T, std::size_t N>
inline constexpr bool is_std_array<std::array<T, N>> = true;

template <class T>
inline constexpr bool is_character = std::is_same_v<T, char> || std::is_same_v<T, wchar_t> ||
                                     std::is_same_v<T, char8_t> || std::is_same_v<T, char16_t> ||
                                     std::is_same_v<T, char32_t>;

template <class T>
concept CodecInteger = std::integral<T> && !std::is_same_v<T, bool> && !is_character<T>;
template <class T>
concept CodecFloat = std::is_same_v<T, float> || std::is_same_v<T, double>;
/// The types that travel as text when they are the whole item.
template <class T>
concept TextScalar = CodecInteger<T> || CodecFloat<T> || std::is_same_v<T, bool> || std::is_same_v<T, std::string>;

template <class T>
inline constexpr bool is_sequence = is_instance_of<T, std::vector> || is_std_array<T>;
template <class T>
inline constexpr bool is_set = is_instance_of<T, std::set> || is_instance_of<T, std::unordered_set>;
template <class T>
inline constexpr bool is_map = is_instance_of<T, std::map> || is_instance_of<T, std::unordered_map>;
template <class T>
inline constexpr bool is_tuple = is_instance_of<T, std::tuple> || is_instance_of<T, std::pair>;

/// A type the codec leaves to nlohmann/json.
template <class T>
concept JsonConvertible = requires(const T& value, const Json& json) {
    Json(value);
    json.template get<T>();
};

template <class T>
consteval bool encodable();

template <class Tuple, std::size_t... I>
consteval bool all_encodable(std::index_sequence<I...>) {
    return (encodable<std::remove_cvref_t<std::tuple_element_t<I, Tuple>>>() && ...);
}

template <class T>
consteval bool encodable() {
    if constexpr (is_character<T> || std::is_same_v<T, long double> || std::is_pointer_v<T> ||
                  std::is_reference_v<T> || std::is_const_v<T>)
        return false;
    else if constexpr (TextScalar<T>)
        return true;
    else if constexpr (is_sequence<T> || is_set<T> || is_instance_of<T, std::optional>)
        return encodable<typename T::value_type>();
    else if constexpr (is_map<T>)
        return encodable<typename T::key_type>() && encodable<typename T::mapped_type>();
    else if constexpr (is_tuple<T>)
        return all_encodable<T>(std::make_index_sequence<std::tuple_size_v<T>>());
    else
        return JsonConvertible<T> && std::is_default_constructible_v<T>;
}

}  // namespace detail

/// Whether values of T can cross the process boundary: see the list above.
template <class T>
concept Encodable = detail::encodable<T>();

namespace detail {

/// An item or a value in an error message: short, on one line, bytes that
/// are not printable ASCII as \xNN.
inline std::string quoted(std::string_view bytes) {
    constexpr std::size_t k_shown = 40;
    std::string out = "'";
    for (std::size_t i = 0; i < bytes.size() && i < k_shown; ++i) {
        auto c = static_cast<unsigned char>(bytes[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            out += static_cast<char>(c);
        } else {
            constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    out += bytes.size() > k_shown ? "'..." : "'";
    return out;
}

/// What a JSON value is, for "expected X, found Y".
inline std::string kind_of(const Json& json) {
    switch (json.type()) {
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "the integer " + json.dump();
    case Json::value_t::number_float: return "the number " + json.dump();
    case Json::value_t::boolean: return json.get<bool>() ? "true" : "false";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array of " + std::to_string(json.size());
    case Json::value_t::object: return "an object";
    case Json::value_t::binary: return "a byte string";
    case Json::value_t::null: return "null";
    default: return "nothing";
    }
}

template <class T>
std::string integer_range() {
    return "an integer from " + std::to_string(std::numeric_limits<T>::min()) + " to " +
           std::to_string(std::numeric_limits<T>::max());
}

// ---- values as text (a whole item that is a number, bool or string)

template <class T>
std::string to_text(const T& value) {
    if constexpr (std::is_same_v<T, std::string>) {
        return value;
    } else if constexpr (std::is_same_v<T, bool>) {
        return value ? "true" : "false";
    } else {
        char buffer[64];
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
        return std::string(buffer, end);
    }
}

template <class T>
T from_text(std::string_view text) {
    if constexpr (std::is_same_v<T, std::string>) {
        return std::string(text);
    } else if constexpr (std::is_same_v<T, bool>) {
        if (text == "true") return true;
        if (text == "false") return false;
        throw CodecError("expected true or false, found " + quoted(text));
    } else {
        T value{};
        const char* end = text.data() + text.size();
        std::from_chars_result parsed{};
        if constexpr (CodecInteger<T>) parsed = std::from_chars(text.data(), end, value, 10);
        else parsed = std::from_chars(text.data(), end, value, std::chars_format::general);
        if (parsed.ec == std::errc() && parsed.ptr == end) return value;
        std::string expected = CodecInteger<T> ? integer_range<T>() : "a floating-point number";
        if (parsed.ec == std::errc::result_out_of_range) expected += " (out of range)";
        throw CodecError("expected " + expected + ", found " + quoted(text));
    }
}

// ---- values as a CBOR document's data model

template <class T>
Json to_json_value(const T& value);
template <class T>
T from_json_value(const Json& json);

/// Element `index` of an array, decoded, with the place named in an error.
template <class T>
T element(const Json& array, std::size_t index) {
    try {
        return from_json_value<T>(array[index]);
    } catch (const CodecError& e) {
        throw e.inside("[" + std::to_string(index) + "]");
    }
}

inline void expect_array(const Json& json, std::optional<std::size_t> size = {}) {
    if (!json.is_array()) throw CodecError("expected an array, found " + kind_of(json));
    if (size && json.size() != *size)
        throw CodecError("expected an array of " + std::to_string(*size) + ", found " + kind_of(json));
}

template <class Tuple, std::size_t... I>
Json tuple_to_json(const Tuple& tuple, std::index_sequence<I...>) {
    Json out = Json::array();
    (out.push_back(to_json_value<std::remove_cvref_t<std::tuple_element_t<I, Tuple>>>(std::get<I>(tuple))), ...);
    return out;
}

template <class Tuple, std::size_t... I>
Tuple tuple_from_json(const Json& json, std::index_sequence<I...>) {
    // Braces: the elements are decoded in order, so an error names the first bad one.
    return Tuple{element<std::tuple_element_t<I, Tuple>>(json, I)...};
}

template <class T>
Json to_json_value(const T& value) {
    static_assert(Encodable<T>, "ppool: this type has no codec; give it to_json and from_json (nlohmann/json)");
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string>) {
        return Json(value);
    } else if constexpr (CodecInteger<T>) {
        if constexpr (std::is_signed_v<T>) return Json(static_cast<std::int64_t>(value));
        else return Json(static_cast<std::uint64_t>(value));
    } else if constexpr (CodecFloat<T>) {
        return Json(static_cast<double>(value));
    } else if constexpr (is_instance_of<T, std::optional>) {
        Json out = Json::array();
        if (value) out.push_back(to_json_value<typename T::value_type>(*value));
        return out;
    } else if constexpr (is_sequence<T> || is_set<T>) {
        Json out = Json::array();
        for (const auto& item : value) out.push_back(to_json_value<typename T::value_type>(item));
        return out;
    } else if constexpr (is_map<T>) {
        Json out = Json::array();
        for (const auto& [key, mapped] : value)
            out.push_back(Json::array({to_json_value<typename T::key_type>(key),
                                       to_json_value<typename T::mapped_type>(mapped)}));
        return out;
    } else if constexpr (is_tuple<T>) {
        return tuple_to_json(value, std::make_index_sequence<std::tuple_size_v<T>>());
    } else {
        return Json(value);
    }
}

template <class T>
T integer_from_json(const Json& json) {
    if (json.is_number_unsigned()) {
        auto v = json.get<std::uint64_t>();
        if (v <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(v);
    } else if (json.is_number_integer()) {
        auto v = json.get<std::int64_t>();
        if (std::in_range<T>(v)) return static_cast<T>(v);
    }
    throw CodecError("expected " + integer_range<T>() + ", found " + kind_of(json));
}

template <class T>
T float_from_json(const Json& json) {
    if (json.is_number_float()) {
        double v = json.get<double>();
        if constexpr (std::is_same_v<T, double>) {
            return v;
        } else {
            // A float travels as the double it converts to exactly; anything else is not a float.
            if (!std::isfinite(v)) return static_cast<T>(v);
            if (std::fabs(v) <= std::numeric_limits<T>::max() && static_cast<double>(static_cast<T>(v)) == v)
                return static_cast<T>(v);
            throw CodecError("expected a float, found " + kind_of(json) + ", which no float holds exactly");
        }
    }
    throw CodecError("expected a floating-point number, found " + kind_of(json));
}

template <class T>
T from_json_value(const Json& json) {
    static_assert(Encodable<T>, "ppool: this type has no codec; give it to_json and from_json (nlohmann/json)");
    if constexpr (std::is_same_v<T, bool>) {
        if (!json.is_boolean()) throw CodecError("expected true or false, found " + kind_of(json));
        return json.get<bool>();
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (!json.is_string()) throw CodecError("expected a string, found " + kind_of(json));
        return json.get<std::string>();
    } else if constexpr (CodecInteger<T>) {
        return integer_from_json<T>(json);
    } else if constexpr (CodecFloat<T>) {
        return float_from_json<T>(json);
    } else if constexpr (is_instance_of<T, std::optional>) {
        expect_array(json);
        if (json.size() > 1) throw CodecError("expected an array of 0 or 1 (an optional), found " + kind_of(json));
        if (json.empty()) return T();
        return T(element<typename T::value_type>(json, 0));
    } else if constexpr (is_std_array<T>) {
        expect_array(json, std::tuple_size_v<T>);
        T out{};
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = element<typename T::value_type>(json, i);
        return out;
    } else if constexpr (is_instance_of<T, std::vector>) {
        expect_array(json);
        T out;
        out.reserve(json.size());
        for (std::size_t i = 0; i < json.size(); ++i) out.push_back(element<typename T::value_type>(json, i));
        return out;
    } else if constexpr (is_set<T>) {
        expect_array(json);
        T out;
        for (std::size_t i = 0; i < json.size(); ++i)
            if (!out.insert(element<typename T::value_type>(json, i)).second)
                throw CodecError("a duplicate element", "[" + std::to_string(i) + "]");
        return out;
    } else if constexpr (is_map<T>) {
        expect_array(json);
        T out;
        for (std::size_t i = 0; i < json.size(); ++i) {
            auto entry = element<std::pair<typename T::key_type, typename T::mapped_type>>(json, i);
            if (!out.insert(std::move(entry)).second)
                throw CodecError("a duplicate key", "[" + std::to_string(i) + "]");
        }
        return out;
    } else if constexpr (is_tuple<T>) {
        expect_array(json, std::tuple_size_v<T>);
        return tuple_from_json<T>(json, std::make_index_sequence<std::tuple_size_v<T>>());
    } else {
        // nlohmann/json's conversions, the user's from_json among them.
        try {
            return json.template get<T>();
        } catch (const CodecError&) {
            throw;
        } catch (const std::exception& e) {
            throw CodecError(e.what());
        }
    }
}

}  // namespace detail

/// The item that carries `value`: text for a number, bool or string, else a
/// CBOR document. Total: every value of an Encodable type has one.
template <Encodable T>
std::string encode(const T& value) {
    if constexpr (detail::TextScalar<T>) {
        return detail::to_text(value);
    } else {
        auto cbor = detail::Json::to_cbor(detail::to_json_value(value));
        return std::string(cbor.begin(), cbor.end());
    }
}

/// The value `bytes` carries, exactly as encode made it; CodecError if it is
/// not the encoding of a T (wrong kind, out of range, extra bytes, ...).
template <Encodable T>
T decode(std::string_view bytes) {
    if constexpr (detail::TextScalar<T>) {
        return detail::from_text<T>(bytes);
    } else {
        detail::Json json;
        try {
            json = detail::Json::from_cbor(bytes.begin(), bytes.end(), /*strict=*/true);
        } catch (const detail::Json::exception& e) {
            throw CodecError("not a CBOR document (" + std::string(e.what()) + "): " + detail::quoted(bytes));
        }
        return detail::from_json_value<T>(json);
    }
}

}  // namespace ppool
