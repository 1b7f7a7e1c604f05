#pragma once
// Pixel images written as PNG with stb_image_write: the lecture's plt.imshow(..., cmap='gray',
// interpolation='nearest') of a matrix, e.g. lecture 4's saturated-tanh map (h.abs() > 0.99).
//
//   auto img = plot::gray_image(saturated, 32, 200, 0, 1);   // false black, true white
//   plot::write_png("out/04/saturation.png", plot::upscale(img, 5));  // 1000x160 pixels
//
// Written to a temporary file and renamed into place, like every figure (see plot.hpp).
#include <cstdint>
#include <filesystem>
#include <vector>

namespace z2h::plot {

struct Image {
  int width = 0, height = 0;
  int channels = 1;                    // 1 = gray, 3 = RGB
  std::vector<std::uint8_t> pixels{};  // row-major, top row first: height * width * channels
};

// A rows x cols row-major matrix as gray pixels, one per entry: vmin is black, vmax white, values
// in between linear and values outside clamped (imshow's cmap='gray' with vmin/vmax).
Image gray_image(const std::vector<double>& values, int rows, int cols, double vmin, double vmax);
// The same with vmin/vmax the smallest and largest value, as imshow does by default.
Image gray_image(const std::vector<double>& values, int rows, int cols);

// Every pixel becomes a factor x factor block (nearest neighbour), so small matrices stay crisp.
Image upscale(const Image& image, int factor);

void write_png(const std::filesystem::path& png, const Image& image);

}  // namespace z2h::plot
