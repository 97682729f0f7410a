// The matrix driver; see matrix.h.
#include "pipeline/matrix.h"

namespace nftpolicy::pipeline {

namespace {

tl::expected<matrix::Matrix, Failure> build(const PolicyRequest& request, SourceManager& sources,
                                            Diagnostics& diags) {
    auto policy = load(request, sources, diags);
    if (!policy) return tl::unexpected(Failure{FailureKind::invalid_policy, {}});
    auto options = option_values(request);
    if (!options)
        return tl::unexpected(Failure{FailureKind::bad_selection, options.error().message});
    if (!resolve::check_options(*policy, *options, diags))
        return tl::unexpected(Failure{FailureKind::bad_selection, {}});
    Diagnostics resolved;
    auto matrix = matrix::site_matrix(*policy, *options, resolved);
    resolved.sort_by_location();
    for (const auto& d : resolved.all()) diags.add(d);
    if (!matrix) return tl::unexpected(Failure{FailureKind::invalid_policy, {}});
    return std::move(*matrix);
}

}  // namespace

MatrixOutput site_matrix(const PolicyRequest& request) {
    MatrixOutput out;
    if (auto failure = precheck(request)) {
        out.result = tl::unexpected(std::move(*failure));
        return out;
    }
    auto sources = std::make_shared<SourceManager>();
    out.sources = sources;
    out.result = build(request, *sources, out.diagnostics);
    return out;
}

}  // namespace nftpolicy::pipeline
