// The kernels of one instruction-set build, as a table of function pointers.
// KernelBodies.h defines one such table per build; Dispatch.c picks one.
#ifndef NET2NET_KERNEL_TABLE_H
#define NET2NET_KERNEL_TABLE_H
#include "CKernels.h"

typedef struct {
    __typeof__(n2n_exp) *exp;
    __typeof__(n2n_tanh) *tanh;
    __typeof__(n2n_sigmoid) *sigmoid;
    __typeof__(n2n_erf) *erf;
    __typeof__(n2n_gelu) *gelu;
    __typeof__(n2n_leaky_relu) *leaky_relu;
    __typeof__(n2n_leaky_relu_backward) *leaky_relu_backward;
    __typeof__(n2n_tanh_backward) *tanh_backward;
    __typeof__(n2n_affine_activation) *affine_activation;
    __typeof__(n2n_affine_activation_rows) *affine_activation_rows;
    __typeof__(n2n_normalize) *normalize;
    __typeof__(n2n_axpy) *axpy;
    __typeof__(n2n_scale) *scale;
    __typeof__(n2n_add) *add;
    __typeof__(n2n_multiply) *multiply;
    __typeof__(n2n_scaled_difference) *scaled_difference;
    __typeof__(n2n_sum) *sum;
    __typeof__(n2n_sum_of_squares) *sum_of_squares;
    __typeof__(n2n_sum_of_squared_deviations) *sum_of_squared_deviations;
    __typeof__(n2n_dot) *dot;
    __typeof__(n2n_all_finite) *all_finite;
    __typeof__(n2n_adam) *adam;
    __typeof__(n2n_layer_norm) *layer_norm;
    __typeof__(n2n_depthwise_row) *depthwise_row;
    __typeof__(n2n_depthwise_row_nhwc) *depthwise_row_nhwc;
    __typeof__(n2n_col2im_k4s2) *col2im_k4s2;
    __typeof__(n2n_im2col_plane) *im2col_plane;
    __typeof__(n2n_col2im_plane) *col2im_plane;
    __typeof__(n2n_sgemm_in_place) *sgemm_in_place;
} n2n_kernel_table;

extern const n2n_kernel_table n2n_kernels_avx512;
extern const n2n_kernel_table n2n_kernels_avx2;
extern const n2n_kernel_table n2n_kernels_baseline;

#endif
