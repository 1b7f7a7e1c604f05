#pragma once
// The lecture's figures, each one function over common/plot/plot.hpp and common/plot/image.hpp.
#include "common/tensor/tensor.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace stage04 {

// plt.plot(lossi) with lossi = log10 of each minibatch loss.
void plot_log10_loss(const std::filesystem::path& png, const std::vector<float>& losses, const std::string& title);

// plt.hist(t.view(-1).tolist(), 50): the video's look at hpreact and h = tanh(hpreact) at step 0.
void plot_hist(const std::filesystem::path& png, const z2h::Tensor& t, const std::string& title,
               const std::string& xlabel);

// plt.figure(figsize=(20,10)); plt.imshow(h.abs() > threshold, cmap='gray', interpolation='nearest'):
// one pixel block per (example, neuron), white where the tanh is saturated.
void plot_saturation(const std::filesystem::path& png, const z2h::Tensor& h, double threshold);

// One torch.histogram(t, density=True) curve per tensor, with a legend, on a 20x4 figure: the
// lecture's 'activation distribution', 'gradient distribution', 'weights gradient distribution'.
struct Series {
  std::string label;
  z2h::Tensor values;
};
void plot_distributions(const std::filesystem::path& png, const std::vector<Series>& series, const std::string& title,
                        const std::string& xlabel);

// The update:data ratio log10(std(lr * grad) / std(data)) of each parameter over the steps, with the
// black reference line at -3 (updates about 1/1000 of the values).
struct RatioCurve {
  std::string label;
  std::vector<double> log10_ratio;  // one per step
};
void plot_update_ratios(const std::filesystem::path& png, const std::vector<RatioCurve>& curves, const std::string& title);

// Several curves over the same x (exercise plots).
struct Curve {
  std::string label;
  std::vector<double> y;
};
void plot_curves(const std::filesystem::path& png, const std::vector<Curve>& curves, const std::string& title,
                 const std::string& xlabel, const std::string& ylabel);

std::vector<double> to_doubles(const z2h::Tensor& t);

}  // namespace stage04
