// pcmoe::ByteView: a read-only view of bytes owned by someone else.
#ifndef PCMOE_CPP_BYTES_HPP
#define PCMOE_CPP_BYTES_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pcmoe {

// A pointer and a length in bytes, as the C interface takes buffers; the
// C++17 stand-in for std::span<const std::uint8_t>. It never copies and
// never owns: the bytes must outlive every use of the view.
class ByteView {
public:
    constexpr ByteView() noexcept = default;
    constexpr ByteView(const std::uint8_t *data, std::size_t size) noexcept : data_(data), size_(size) {}
    ByteView(const std::vector<std::uint8_t> &bytes) noexcept : data_(bytes.data()), size_(bytes.size()) {}
    ByteView(std::string_view text) noexcept
        : data_(reinterpret_cast<const std::uint8_t *>(text.data())), size_(text.size()) {}
    ByteView(const std::string &text) noexcept : ByteView(std::string_view(text)) {}

    constexpr const std::uint8_t *data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr const std::uint8_t *begin() const noexcept { return data_; }
    constexpr const std::uint8_t *end() const noexcept { return data_ + size_; }

    // Copies the bytes, for a transport that must keep them after a callback.
    std::vector<std::uint8_t> to_vector() const { return std::vector<std::uint8_t>(begin(), end()); }

private:
    const std::uint8_t *data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace pcmoe

#endif
