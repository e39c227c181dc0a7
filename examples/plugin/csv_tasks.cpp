// A ppool plugin: tasks of its own, loaded with --plugin, run inside the
// workers with no exec, as fast as the built-in tasks.
//
//   csv_sum      sums the numeric fields of a CSV line ("3,x,4.5" -> 7.5)
//   load_prices  an initializer: reads "name,price" lines from the file
//                named by --initargs into a table, once per worker
//   price        looks the item up in that table ("apple" -> 1.25)
//
// Why an initializer: the table is loaded once per worker, not once per item.
#include <ppool/plugin.hpp>

#include <charconv>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace {

std::unordered_map<std::string, std::string> g_prices;

std::string format_number(double v) {
    char buffer[64];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    return std::string(buffer, end);
}

std::string csv_sum(std::string_view line) {
    double total = 0;
    while (true) {
        auto comma = line.find(',');
        auto field = line.substr(0, comma);
        double v = 0;
        auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
        if (ec == std::errc{} && end == field.data() + field.size()) total += v;
        if (comma == std::string_view::npos) break;
        line.remove_prefix(comma + 1);
    }
    return format_number(total);
}

std::string load_prices(std::string_view path) {
    std::ifstream in{std::string(path)};
    if (!in) throw std::runtime_error("cannot read price table '" + std::string(path) + "'");
    for (std::string line; std::getline(in, line);) {
        auto comma = line.find(',');
        if (comma != std::string::npos) g_prices[line.substr(0, comma)] = line.substr(comma + 1);
    }
    return {};
}

std::string price(std::string_view name) {
    auto it = g_prices.find(std::string(name));
    if (it == g_prices.end()) throw std::runtime_error("no price for '" + std::string(name) + "'");
    return it->second;
}

}  // namespace

PPOOL_PLUGIN(registry) {
    registry.add("csv_sum", "sum of the numeric fields of a CSV line", csv_sum);
    registry.add("load_prices", "initializer: loads name,price lines from the file named by --initargs", load_prices);
    registry.add("price", "the price of the item, from the table load_prices loaded", price);
}
