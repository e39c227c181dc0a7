// The benchmark's CPU-bound task, loaded with --plugin: the SHA-256 of the
// item, hashed again and again, ROUNDS times in all, printed in hex. It does
// no I/O, so running it with -j1 and -j2 over the same items measures how
// well the work spreads over the workers (parallel efficiency).
//
// Build: c++ -std=c++20 -O2 -shared -fPIC -I include -o libplugin_sha.so bench/plugin_sha.cpp -lcrypto
#include <openssl/evp.h>

#include <ppool/plugin.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

constexpr int ROUNDS = 1000;

std::string sha_rounds(std::string_view item) {
    // One context per worker, kept: the task's cost is the hashing.
    thread_local EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    static const EVP_MD* sha256 = EVP_sha256();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    const void* data = item.data();
    size_t length = item.size();
    for (int i = 0; i < ROUNDS; ++i) {
        if (!ctx || EVP_DigestInit_ex(ctx, sha256, nullptr) != 1 || EVP_DigestUpdate(ctx, data, length) != 1 ||
            EVP_DigestFinal_ex(ctx, digest, &size) != 1) {
            throw std::runtime_error("SHA-256 failed");
        }
        data = digest;
        length = size;
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(2 * size, '\0');
    for (unsigned int i = 0; i < size; ++i) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    return out;
}

}  // namespace

PPOOL_PLUGIN(registry) {
    registry.add("sha_rounds", "SHA-256 of the item, hashed 1000 times in all, in hex (CPU-bound)", sha_rounds);
}
