// Gray/RGB images encoded with stb_image_write (libstb-dev): encoded in memory, then written
// atomically with write_file_atomic (common/io/output.hpp).
#include "common/plot/image.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/app/error.hpp"
#include "common/io/output.hpp"
#include "common/plot/plot.hpp"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC  // private to this file: no clash with another copy of stb
#include <stb/stb_image_write.h>

namespace z2h::plot {

namespace {

void check_matrix(const std::vector<double>& values, int rows, int cols) {
  if (rows <= 0 || cols <= 0)
    throw UserError("image of " + std::to_string(rows) + "x" + std::to_string(cols) +
                    " entries (pass at least one row and one column)");
  if (values.size() != static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols))
    throw UserError("image has " + std::to_string(values.size()) + " values for " + std::to_string(rows) +
                    "x" + std::to_string(cols) + " entries");
}

void check_image(const Image& image) {
  const bool ok = image.width > 0 && image.height > 0 && (image.channels == 1 || image.channels == 3) &&
                  image.pixels.size() == static_cast<std::size_t>(image.width) *
                                             static_cast<std::size_t>(image.height) *
                                             static_cast<std::size_t>(image.channels);
  if (!ok)
    throw UserError("image of " + std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
                    std::to_string(image.channels) + " does not match its " +
                    std::to_string(image.pixels.size()) + " bytes (channels must be 1 or 3)");
}

}  // namespace

Image gray_image(const std::vector<double>& values, int rows, int cols, double vmin, double vmax) {
  check_matrix(values, rows, cols);
  Image img{cols, rows, 1, std::vector<std::uint8_t>(values.size())};
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double t = vmax > vmin ? (values[i] - vmin) / (vmax - vmin) : 0.0;
    img.pixels[i] =
        static_cast<std::uint8_t>(std::lround(std::clamp(std::isnan(t) ? 0.0 : t, 0.0, 1.0) * 255));
  }
  return img;
}

Image gray_image(const std::vector<double>& values, int rows, int cols) {
  check_matrix(values, rows, cols);
  double lo = 0, hi = 0;
  bool seen = false;
  for (double v : values)
    if (std::isfinite(v)) lo = seen ? std::min(lo, v) : v, hi = seen ? std::max(hi, v) : v, seen = true;
  return gray_image(values, rows, cols, lo, hi);
}

Image upscale(const Image& image, int factor) {
  check_image(image);
  if (factor < 1 || static_cast<long long>(factor) * std::max(image.width, image.height) > 20000)
    throw UserError("upscale factor " + std::to_string(factor) + " (use 1.." +
                    std::to_string(20000 / std::max(image.width, image.height)) + " for a " +
                    std::to_string(image.width) + "x" + std::to_string(image.height) + " image)");
  const auto c = static_cast<std::size_t>(image.channels);
  Image out{image.width * factor, image.height * factor, image.channels, {}};
  out.pixels.resize(static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.height) * c);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      const auto src = (static_cast<std::size_t>(y / factor) * static_cast<std::size_t>(image.width) +
                        static_cast<std::size_t>(x / factor)) *
                       c;
      const auto dst =
          (static_cast<std::size_t>(y) * static_cast<std::size_t>(out.width) + static_cast<std::size_t>(x)) *
          c;
      std::copy_n(image.pixels.begin() + static_cast<std::ptrdiff_t>(src), c,
                  out.pixels.begin() + static_cast<std::ptrdiff_t>(dst));
    }
  return out;
}

void write_png(const std::filesystem::path& png, const Image& image) {
  check_image(image);
  std::vector<unsigned char> bytes;
  auto append = [](void* context, void* data, int size) {
    auto* out = static_cast<std::vector<unsigned char>*>(context);
    out->insert(out->end(), static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + size);
  };
  const int ok = stbi_write_png_to_func(append, &bytes, image.width, image.height, image.channels,
                                        image.pixels.data(), image.width * image.channels);
  if (!ok) throw UserError("cannot encode '" + png.string() + "' as PNG (image too large?)");
  write_file_atomic(png, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace z2h::plot
