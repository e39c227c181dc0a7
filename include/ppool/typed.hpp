#pragma once

// Typed tasks: a task registered with its C++ signature and called with C++
// values, over the string tasks underneath.
//
//     #include <ppool/typed.hpp>
//
//     // At namespace scope: registered before main, so before any Pool forks.
//     inline const auto square = ppool::typed_task("square", "squares an integer",
//                                                  [](long x) { return x * x; });
//     inline const auto add = ppool::typed_task("add", "adds two integers",
//                                               [](int a, int b) { return a + b; });
//
//     ppool::Pool pool({.processes = 4});
//     std::vector<long> squares = ppool::map(pool, square, {1, 2, 3});  // {1, 4, 9}
//     long sixteen = ppool::apply(pool, square, 4);
//     auto later = ppool::apply_async(pool, square, 5);                  // later.get(10.0) == 25
//     for (long s : ppool::imap_unordered(pool, square, some_vector)) { ... }
//     std::vector<int> sums = ppool::starmap(pool, add, {{1, 2}, {3, 4}});  // {3, 7}
//
// The calls are free functions named after Pool's members (write them
// qualified, ppool::map: with `using namespace std`, a plain `map` is the
// class template). They follow Python's Pool: apply(f, args...), map and
// imap over one argument per item, starmap over tuples of arguments.
//
// Arguments and results cross the process boundary through the codec of
// <ppool/codec.hpp>: numbers, bool and strings as text, everything else (the
// standard containers, std::optional, std::pair, std::tuple, and any type
// with nlohmann/json's to_json/from_json) as CBOR. An argument of the wrong
// type, or a type the codec cannot carry, is a compile error: a value must
// convert implicitly to the parameter's type, and between arithmetic types
// without narrowing (an integer may still go to a floating-point parameter;
// a bool goes only to a bool).
//
// Failures: a task's exception fails its item as with string tasks, and the
// caller gets ppool::TaskError with the exception's message. An item that is
// not an encoding of the task's arguments (a string task's caller, the
// command line) fails with "cannot decode the argument of task 'NAME': ...";
// a result the caller cannot decode throws TaskError with "cannot decode the
// result of task 'NAME': ...".

#include <concepts>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "ppool/codec.hpp"
#include "ppool/errors.hpp"
#include "ppool/item_source.hpp"
#include "ppool/pool.hpp"
#include "ppool/result.hpp"
#include "ppool/task.hpp"

namespace ppool {

namespace detail {

/// The type a parameter's or a result's values are kept in: no reference or
/// const, and std::string for std::string_view.
template <class P>
struct value_type_of {
    using type = std::remove_cvref_t<P>;
};
template <class P>
    requires std::same_as<std::remove_cvref_t<P>, std::string_view>
struct value_type_of<P> {
    using type = std::string;
};
template <class P>
using value_t = typename value_type_of<P>::type;

/// The declared signature of a function, a function pointer, or an object
/// with a single, non-template operator() (a lambda).
template <class F>
struct signature_of;
template <class F>
    requires requires { &F::operator(); }
struct signature_of<F> : signature_of<decltype(&F::operator())> {};
template <class R, class... A>
struct signature_of<R(A...)> {
    using type = R(A...);
};
template <class R, class... A>
struct signature_of<R(A...) noexcept> : signature_of<R(A...)> {};
template <class R, class... A>
struct signature_of<R (*)(A...)> : signature_of<R(A...)> {};
template <class R, class... A>
struct signature_of<R (*)(A...) noexcept> : signature_of<R(A...)> {};
template <class C, class R, class... A>
struct signature_of<R (C::*)(A...)> : signature_of<R(A...)> {};
template <class C, class R, class... A>
struct signature_of<R (C::*)(A...) const> : signature_of<R(A...)> {};
template <class C, class R, class... A>
struct signature_of<R (C::*)(A...) noexcept> : signature_of<R(A...)> {};
template <class C, class R, class... A>
struct signature_of<R (C::*)(A...) const noexcept> : signature_of<R(A...)> {};

template <class F>
concept has_signature = requires { typename signature_of<F>::type; };

/// Between arithmetic types: without narrowing, except that an integer may
/// go to a floating-point parameter; a bool only to a bool.
template <class V, class A>
concept arithmetic_argument_for =
    std::is_same_v<V, bool> == std::is_same_v<A, bool> &&
    ((std::is_integral_v<V> && std::is_floating_point_v<A>) || requires(V v) { A{v}; });

/// A value of type V may be passed for a parameter whose values are A: it
/// converts implicitly, and between arithmetic types as above.
template <class V, class A>
concept argument_for =
    std::convertible_to<V, A> &&
    (!(std::is_arithmetic_v<std::remove_cvref_t<V>> && std::is_arithmetic_v<A>) ||
     arithmetic_argument_for<std::remove_cvref_t<V>, A>);

template <class E, class Arguments, std::size_t... I>
consteval bool elements_are_arguments(std::index_sequence<I...>) {
    return (argument_for<decltype(std::get<I>(std::declval<E>())), std::tuple_element_t<I, Arguments>> && ...);
}

/// A tuple-like value (std::tuple, std::pair, std::array) whose elements may
/// be passed for the parameters A...: one item of starmap.
template <class E, class... A>
concept arguments_tuple_for =
    requires { std::tuple_size<std::remove_cvref_t<E>>::value; } &&
    std::tuple_size_v<std::remove_cvref_t<E>> == sizeof...(A) &&
    elements_are_arguments<E, std::tuple<A...>>(std::index_sequence_for<A...>());

/// `value` as the parameter's type A: itself when it is one, else converted.
template <class A, class V>
decltype(auto) as_argument(V&& value) {
    if constexpr (std::is_same_v<std::remove_cvref_t<V>, A>) return static_cast<const A&>(value);
    else return A(std::forward<V>(value));
}

/// The item for a call with `values`: one argument is encoded alone (so a
/// number or a string is plain text), several as a tuple.
template <class... A, class... V>
std::string encode_arguments(V&&... values) {
    if constexpr (sizeof...(A) == 1) {
        return encode(as_argument<A...>(std::forward<V>(values)...));
    } else {
        // References to the values: the same document as std::tuple<A...>, without copies.
        auto json = tuple_to_json(std::tuple<const A&...>(as_argument<A>(std::forward<V>(values))...),
                                  std::index_sequence_for<A...>());
        auto cbor = Json::to_cbor(json);
        return std::string(cbor.begin(), cbor.end());
    }
}

/// The item for one starmap element, a tuple of arguments.
template <class... A, class E>
std::string encode_argument_tuple(E&& element) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return encode_arguments<A...>(std::get<I>(std::forward<E>(element))...);
    }(std::index_sequence_for<A...>());
}

/// The arguments an item carries, in the worker.
template <class... A>
std::tuple<A...> decode_arguments(const std::string& task, std::string_view item) {
    try {
        if constexpr (sizeof...(A) == 1) return std::tuple<A...>(decode<A...>(item));
        else return decode<std::tuple<A...>>(item);
    } catch (const CodecError& e) {
        throw CodecError(std::string(sizeof...(A) == 1 ? "cannot decode the argument" : "cannot decode the arguments") +
                         " of task '" + task + "': " + e.what());
    }
}

/// A stored argument as parameter P takes it: an lvalue for a non-const
/// lvalue reference, else an rvalue (moved into a by-value parameter).
template <class P, class V>
decltype(auto) pass(V& stored) {
    if constexpr (std::is_lvalue_reference_v<P> && !std::is_const_v<std::remove_reference_t<P>>) return (stored);
    else return std::move(stored);
}

template <class... P, class F, class Tuple, std::size_t... I>
decltype(auto) call_with(F& fn, Tuple& arguments, std::index_sequence<I...>) {
    return std::invoke(fn, pass<P>(std::get<I>(arguments))...);
}

/// The string task that runs `fn` typed: decodes the item, calls, encodes the result.
template <class R, class... P, class F>
TaskFunction typed_function(std::string name, F fn) {
    return [name = std::move(name), fn = std::move(fn)](std::string_view item) mutable -> std::string {
        auto arguments = decode_arguments<value_t<P>...>(name, item);
        value_t<R> result = call_with<P...>(fn, arguments, std::index_sequence_for<P...>());
        try {
            return encode(result);
        } catch (const std::exception& e) {
            throw CodecError("cannot encode the result of task '" + name + "': " + e.what());
        }
    };
}

/// The value a successful result carries; TaskError (status error, saying
/// why) if it is not an encoding of R.
template <class R>
R decode_result(const std::string& task, TaskResult result) {
    std::string output = result.large_output ? result.output_text() : std::move(result.output);
    try {
        return decode<R>(output);
    } catch (const CodecError& e) {
        result.output = std::move(output);
        result.status = Status::error;
        result.error = "cannot decode the result of task '" + task + "': " + e.what();
        throw TaskError(std::move(result));
    }
}

/// decode_result for an output without its TaskResult (apply, map): `seq`
/// is its 1-based position.
template <class R>
R decode_output(const std::string& task, std::string output, std::uint64_t seq) {
    TaskResult result;
    result.seq = seq;
    result.status = Status::ok;
    result.output = std::move(output);
    return decode_result<R>(task, std::move(result));
}

/// Items for a task, read from an input range only as the pool asks for
/// them, so that imap over a long or lazy range holds a bounded number.
template <class View, class Encode>
class EncodingSource final : public ItemSource {
public:
    EncodingSource(View view, Encode encode) : m_view(std::move(view)), m_encode(std::move(encode)) {}
    int fd() const override { return -1; }
    bool read_more(std::vector<std::string>& out) override {
        if (!m_at) m_at.emplace(std::ranges::begin(m_view));
        auto& at = *m_at;
        if (at == std::ranges::end(m_view)) return false;
        for (std::size_t n = 0; n < k_batch && at != std::ranges::end(m_view); ++n, ++at)
            out.push_back(m_encode(*at));
        return true;
    }

private:
    static constexpr std::size_t k_batch = 256;
    View m_view;
    Encode m_encode;
    std::optional<std::ranges::iterator_t<View>> m_at;
};

template <class Range, class Encode>
std::unique_ptr<ItemSource> encoding_source(Range&& range, Encode encode) {
    using View = std::views::all_t<Range>;
    return std::make_unique<EncodingSource<View, Encode>>(std::views::all(std::forward<Range>(range)),
                                                          std::move(encode));
}

template <class A, class Range>
std::vector<std::string> encode_each(Range&& range) {
    std::vector<std::string> items;
    if constexpr (std::ranges::sized_range<Range>) items.reserve(std::ranges::size(range));
    for (auto&& value : range) items.push_back(encode_arguments<A>(std::forward<decltype(value)>(value)));
    return items;
}

template <class... A, class Range>
std::vector<std::string> encode_each_tuple(Range&& range) {
    std::vector<std::string> items;
    if constexpr (std::ranges::sized_range<Range>) items.reserve(std::ranges::size(range));
    for (auto&& element : range) items.push_back(encode_argument_tuple<A...>(std::forward<decltype(element)>(element)));
    return items;
}

}  // namespace detail

template <class Signature>
class TypedTask;

namespace detail {
/// The TypedTask for a declared signature: parameters and result as value types.
template <class Signature>
struct typed_task_of;
template <class R, class... P>
struct typed_task_of<R(P...)> {
    using type = TypedTask<value_t<R>(value_t<P>...)>;
};
}  // namespace detail

/// A registered task with its C++ signature: what the typed calls take. R
/// and A are value types (no references; std::string for std::string_view).
/// Copying it copies its name only.
template <class R, class... A>
class TypedTask<R(A...)> {
    static_assert(!std::is_void_v<R>, "ppool: a typed task returns a value");
    static_assert(Encodable<R>, "ppool: the result type has no codec; give it to_json and from_json (nlohmann/json)");
    static_assert((Encodable<A> && ...),
                  "ppool: an argument type has no codec; give it to_json and from_json (nlohmann/json)");

public:
    using result_type = R;                    ///< the task's result type
    using argument_types = std::tuple<A...>;  ///< its parameter types, as a tuple

    /// The task registered as `name`, which must take and return these types
    /// through the codec: typed_task registers one and returns its handle;
    /// this names one registered elsewhere, for example a string task whose
    /// items and results are text (`TypedTask<std::size_t(std::string)> len{"len"}`).
    explicit TypedTask(std::string name) : m_name(std::move(name)) {}
    /// The name the task is registered under.
    const std::string& name() const { return m_name; }

private:
    std::string m_name;
};

/// Registers `fn` in `registry` (TaskRegistry, or a plugin's PluginRegistry)
/// as the task `name` taking and returning C++ values, and returns its
/// handle. The signature is `fn`'s own (a function, a function pointer, a
/// lambda) or, for a generic lambda, the one given: `typed_task<int(int)>(...)`.
/// Parameters may be taken by value or by reference; the result is returned
/// by value. Throws UsageError if the name is empty or taken.
template <class Signature = void, class Registry, class F>
    requires requires(Registry& registry, const std::string& name, TaskFunction function) {
        registry.add(name, name, std::move(function));
    }
auto typed_task(Registry& registry, std::string name, std::string description, F fn) {
    if constexpr (std::is_void_v<Signature>) {
        static_assert(detail::has_signature<F>,
                      "ppool::typed_task: this callable has no single signature (a generic lambda?); "
                      "give it: typed_task<int(int)>(...)");
        return typed_task<typename detail::signature_of<F>::type>(registry, std::move(name), std::move(description),
                                                                  std::move(fn));
    } else {
        using Task = typename detail::typed_task_of<Signature>::type;
        [&]<class R, class... P>(std::type_identity<R(P...)>) {
            static_assert(!std::is_void_v<R>, "ppool::typed_task: a typed task returns a value");
            static_assert(Encodable<detail::value_t<R>>,
                          "ppool::typed_task: the result type has no codec; give it to_json and from_json (nlohmann/json)");
            static_assert((Encodable<detail::value_t<P>> && ...),
                          "ppool::typed_task: an argument type has no codec; give it to_json and from_json (nlohmann/json)");
            static_assert(std::is_invocable_v<F&, P...>, "ppool::typed_task: the callable does not take these arguments");
            registry.add(name, std::move(description), detail::typed_function<R, P...>(name, std::move(fn)));
        }(std::type_identity<Signature>());
        return Task(std::move(name));
    }
}

/// typed_task in the process's registry (TaskRegistry::global()). At
/// namespace scope, which registers it before main and so in every worker,
/// however started: `const auto square = ppool::typed_task(...);` in a .cpp
/// file, `inline const auto` in a header (registered once, whatever includes
/// it). There, a name taken twice ends the program at start-up with the
/// UsageError's message (std::terminate).
template <class Signature = void, class F>
auto typed_task(std::string name, std::string description, F fn) {
    return typed_task<Signature>(TaskRegistry::global(), std::move(name), std::move(description), std::move(fn));
}

/// The result of a typed apply_async, map_async or starmap_async, after
/// Python's AsyncResult: T is the task's result type, or a vector of it.
template <class T>
class TypedAsyncResult {
public:
    /// Made by the typed calls from the string layer's result.
    TypedAsyncResult(std::string task, AsyncResult<std::string> result)
        : m_task(std::move(task)), m_result(std::move(result)) {}
    /// The same from a list of results (map_async, starmap_async).
    TypedAsyncResult(std::string task, AsyncResult<std::vector<std::string>> results)
        requires detail::is_instance_of<T, std::vector>
        : m_task(std::move(task)), m_result(std::move(results)) {}

    /// Waits up to `timeout`; the value, or TaskError for a failed task (or
    /// a result that does not decode), or TimeoutError.
    T get(Timeout timeout = {}) {
        return std::visit([&](auto& result) { return decoded(result.get(timeout)); }, m_result);
    }
    /// Waits up to `timeout` for the result; does not throw for a failed task.
    void wait(Timeout timeout = {}) {
        std::visit([&](auto& result) { result.wait(timeout); }, m_result);
    }
    /// Whether the call has completed.
    bool ready() const {
        return std::visit([](const auto& result) { return result.ready(); }, m_result);
    }
    /// Whether it completed without failure; throws Error if not ready yet.
    bool successful() const {
        return std::visit([](const auto& result) { return result.successful(); }, m_result);
    }

private:
    T decoded(std::string output) const { return detail::decode_output<T>(m_task, std::move(output), 1); }
    T decoded(std::vector<std::string> outputs) const {
        if constexpr (detail::is_instance_of<T, std::vector>) {
            T values;
            values.reserve(outputs.size());
            for (std::size_t i = 0; i < outputs.size(); ++i)
                values.push_back(detail::decode_output<typename T::value_type>(m_task, std::move(outputs[i]), i + 1));
            return values;
        } else {
            // Unreachable: only a vector result is made from a list of outputs.
            throw Error("a typed result of one value holds a list");
        }
    }

    std::string m_task;
    std::variant<AsyncResult<std::string>, AsyncResult<std::vector<std::string>>> m_result;
};

/// The results of a typed imap or imap_unordered, one at a time.
template <class R>
class TypedResultIterator {
public:
    /// Made by the typed calls from the string layer's iterator.
    TypedResultIterator(std::string task, ResultIterator results)
        : m_task(std::move(task)), m_results(std::move(results)) {}

    /// The next value; no value at the end. Throws TaskError for a failed
    /// task (or a result that does not decode) and TimeoutError if none
    /// arrives within `timeout`.
    std::optional<R> next(Timeout timeout = {}) {
        auto result = m_results.next_result(timeout);
        if (!result) return std::nullopt;
        if (!result->ok()) throw TaskError(std::move(*result));
        return detail::decode_result<R>(m_task, std::move(*result));
    }
    /// The next result as the string layer has it, failed or not.
    std::optional<TaskResult> next_result(Timeout timeout = {}) { return m_results.next_result(timeout); }
    /// Whether a result is ready to take without waiting.
    bool has_ready() const { return m_results.has_ready(); }
    /// Counts of the job so far.
    JobProgress progress() const { return m_results.progress(); }

    /// Range-for support over the values (a failed task throws TaskError).
    class iterator {
    public:
        /// A standard input iterator: `++` takes the next value, and at the end it equals `iterator()`.
        ///@{
        using iterator_category = std::input_iterator_tag;
        using value_type = R;
        using difference_type = std::ptrdiff_t;
        using pointer = const R*;
        using reference = const R&;
        iterator() = default;
        explicit iterator(TypedResultIterator* owner) : m_owner(owner) { ++*this; }
        reference operator*() const { return *m_value; }
        pointer operator->() const { return &*m_value; }
        iterator& operator++() {
            m_value = m_owner->next();
            if (!m_value) m_owner = nullptr;
            return *this;
        }
        void operator++(int) { ++*this; }
        bool operator==(const iterator& other) const { return m_owner == other.m_owner; }
        ///@}

    private:
        TypedResultIterator* m_owner = nullptr;
        std::optional<R> m_value;
    };
    /// Waits for the first value (as next()): the start of a range-for.
    iterator begin() { return iterator(this); }
    /// The end of the values.
    iterator end() { return iterator(); }

private:
    std::string m_task;
    ResultIterator m_results;
};

/// Runs `task(args...)` in a worker and returns its result; TaskError on failure.
template <class R, class... A, class... V>
    requires(sizeof...(V) == sizeof...(A)) && (detail::argument_for<V, A> && ...)
R apply(Pool& pool, const TypedTask<R(A...)>& task, V&&... args) {
    auto output = pool.apply(task.name(), detail::encode_arguments<A...>(std::forward<V>(args)...));
    return detail::decode_output<R>(task.name(), std::move(output), 1);
}

/// Starts `task(args...)`; the result comes later.
template <class R, class... A, class... V>
    requires(sizeof...(V) == sizeof...(A)) && (detail::argument_for<V, A> && ...)
TypedAsyncResult<R> apply_async(Pool& pool, const TypedTask<R(A...)>& task, V&&... args) {
    return {task.name(), pool.apply_async(task.name(), detail::encode_arguments<A...>(std::forward<V>(args)...))};
}

/// `task` over every value of `items` (any input range), results in input
/// order; TaskError on the first failure. A chunksize of 0 is Python's.
template <class R, class A, std::ranges::input_range Items>
    requires detail::argument_for<std::ranges::range_reference_t<Items>, A>
TypedAsyncResult<std::vector<R>> map_async(Pool& pool, const TypedTask<R(A)>& task, Items&& items,
                                           std::size_t chunksize = 0) {
    return {task.name(), pool.map_async(task.name(), detail::encode_each<A>(std::forward<Items>(items)), chunksize)};
}
/// The same over a braced list of values: `{1, 2, 3}`.
template <class R, class A>
TypedAsyncResult<std::vector<R>> map_async(Pool& pool, const TypedTask<R(A)>& task,
                                           std::initializer_list<std::type_identity_t<A>> items,
                                           std::size_t chunksize = 0) {
    return map_async(pool, task, std::vector<A>(items), chunksize);
}

/// map_async, waited for: every result, in input order; TaskError on the first failure.
template <class R, class A, std::ranges::input_range Items>
    requires detail::argument_for<std::ranges::range_reference_t<Items>, A>
std::vector<R> map(Pool& pool, const TypedTask<R(A)>& task, Items&& items, std::size_t chunksize = 0) {
    return map_async(pool, task, std::forward<Items>(items), chunksize).get();
}
/// The same over a braced list of values: `{1, 2, 3}`.
template <class R, class A>
std::vector<R> map(Pool& pool, const TypedTask<R(A)>& task, std::initializer_list<std::type_identity_t<A>> items,
                   std::size_t chunksize = 0) {
    return map_async(pool, task, std::vector<A>(items), chunksize).get();
}

/// `task` over every tuple of arguments in `items` (Python's starmap):
/// `starmap(pool, add, std::vector<std::tuple<int, int>>{{1, 2}, {3, 4}})`.
template <class R, class... A, std::ranges::input_range Items>
    requires detail::arguments_tuple_for<std::ranges::range_reference_t<Items>, A...>
TypedAsyncResult<std::vector<R>> starmap_async(Pool& pool, const TypedTask<R(A...)>& task, Items&& items,
                                               std::size_t chunksize = 0) {
    return {task.name(),
            pool.map_async(task.name(), detail::encode_each_tuple<A...>(std::forward<Items>(items)), chunksize)};
}
/// The same over a braced list of tuples: `{{1, 2}, {3, 4}}`.
template <class R, class... A>
TypedAsyncResult<std::vector<R>> starmap_async(Pool& pool, const TypedTask<R(A...)>& task,
                                               std::initializer_list<std::type_identity_t<std::tuple<A...>>> items,
                                               std::size_t chunksize = 0) {
    return starmap_async(pool, task, std::vector<std::tuple<A...>>(items), chunksize);
}

/// starmap_async, waited for: every result, in input order; TaskError on the first failure.
template <class R, class... A, std::ranges::input_range Items>
    requires detail::arguments_tuple_for<std::ranges::range_reference_t<Items>, A...>
std::vector<R> starmap(Pool& pool, const TypedTask<R(A...)>& task, Items&& items, std::size_t chunksize = 0) {
    return starmap_async(pool, task, std::forward<Items>(items), chunksize).get();
}
/// The same over a braced list of tuples: `{{1, 2}, {3, 4}}`.
template <class R, class... A>
std::vector<R> starmap(Pool& pool, const TypedTask<R(A...)>& task,
                       std::initializer_list<std::type_identity_t<std::tuple<A...>>> items, std::size_t chunksize = 0) {
    return starmap_async(pool, task, std::vector<std::tuple<A...>>(items), chunksize).get();
}

/// Streams results in input order. `items` is read as the pool takes items
/// (bounded memory for a long range): a range passed as an lvalue must
/// outlive the iterator; one passed as an rvalue is moved in.
template <class R, class A, std::ranges::input_range Items>
    requires detail::argument_for<std::ranges::range_reference_t<Items>, A> && std::ranges::viewable_range<Items>
TypedResultIterator<R> imap(Pool& pool, const TypedTask<R(A)>& task, Items&& items, std::size_t chunksize = 1) {
    auto encode = [](auto&& value) { return detail::encode_arguments<A>(std::forward<decltype(value)>(value)); };
    return {task.name(), pool.imap(task.name(), detail::encoding_source(std::forward<Items>(items), encode), chunksize)};
}
/// The same over a braced list of values: `{1, 2, 3}`.
template <class R, class A>
TypedResultIterator<R> imap(Pool& pool, const TypedTask<R(A)>& task,
                            std::initializer_list<std::type_identity_t<A>> items, std::size_t chunksize = 1) {
    return imap(pool, task, std::vector<A>(items), chunksize);
}

/// Streams results in completion order; `items` as for imap.
template <class R, class A, std::ranges::input_range Items>
    requires detail::argument_for<std::ranges::range_reference_t<Items>, A> && std::ranges::viewable_range<Items>
TypedResultIterator<R> imap_unordered(Pool& pool, const TypedTask<R(A)>& task, Items&& items,
                                      std::size_t chunksize = 1) {
    auto encode = [](auto&& value) { return detail::encode_arguments<A>(std::forward<decltype(value)>(value)); };
    return {task.name(),
            pool.imap_unordered(task.name(), detail::encoding_source(std::forward<Items>(items), encode), chunksize)};
}
/// The same over a braced list of values: `{1, 2, 3}`.
template <class R, class A>
TypedResultIterator<R> imap_unordered(Pool& pool, const TypedTask<R(A)>& task,
                                      std::initializer_list<std::type_identity_t<A>> items,
                                      std::size_t chunksize = 1) {
    return imap_unordered(pool, task, std::vector<A>(items), chunksize);
}

}  // namespace ppool
