package io.raftkv.server.grpc;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class GrpcServerMetricsTest {
    @Test
    void codesAreSpelledAsGrpcGoPrintsThem() {
        assertThat(GrpcServerMetrics.goSpelling(Status.Code.OK)).isEqualTo("OK");
        assertThat(GrpcServerMetrics.goSpelling(Status.Code.CANCELLED)).isEqualTo("Canceled");
        assertThat(GrpcServerMetrics.goSpelling(Status.Code.INVALID_ARGUMENT)).isEqualTo("InvalidArgument");
        assertThat(GrpcServerMetrics.goSpelling(Status.Code.DEADLINE_EXCEEDED)).isEqualTo("DeadlineExceeded");
        assertThat(GrpcServerMetrics.goSpelling(Status.Code.UNAVAILABLE)).isEqualTo("Unavailable");
        assertThat(GrpcServerMetrics.goSpelling(Status.Code.OUT_OF_RANGE)).isEqualTo("OutOfRange");
    }
}
