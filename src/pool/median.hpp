#pragma once

#include <cstddef>
#include <functional>
#include <queue>
#include <vector>

namespace ppool::detail {

/// The median of the numbers added so far, kept as they come (two heaps:
/// O(log n) to add, O(1) to ask), for --timeout N% over millions of tasks.
class RunningMedian {
public:
    void add(double value) {
        if (m_low.empty() || value <= m_low.top()) m_low.push(value);
        else m_high.push(value);
        // The lower half holds the middle one, or one of the two middle ones.
        if (m_low.size() > m_high.size() + 1) {
            m_high.push(m_low.top());
            m_low.pop();
        } else if (m_high.size() > m_low.size()) {
            m_low.push(m_high.top());
            m_high.pop();
        }
    }
    std::size_t count() const { return m_low.size() + m_high.size(); }
    /// The middle value, or the mean of the two middle ones; 0 when empty.
    double median() const {
        if (m_low.empty()) return 0;
        if (m_low.size() > m_high.size()) return m_low.top();
        return (m_low.top() + m_high.top()) / 2;
    }

private:
    std::priority_queue<double> m_low;
    std::priority_queue<double, std::vector<double>, std::greater<double>> m_high;
};

}  // namespace ppool::detail
