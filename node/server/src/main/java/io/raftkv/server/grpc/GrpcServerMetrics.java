package io.raftkv.server.grpc;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gRPC server metrics etcd exports (go-grpc-prometheus names, labels and code spellings), so
 * that etcd's Grafana dashboards work: {@code grpc_server_started_total},
 * {@code grpc_server_handled_total}, {@code grpc_server_msg_received_total},
 * {@code grpc_server_msg_sent_total} and the {@code grpc_server_handling_seconds} histogram (etcd
 * exports it with {@code --metrics=extensive}). Labels: grpc_type (unary, client_stream,
 * server_stream, bidi_stream), grpc_service, grpc_method and, on handled, grpc_code as Go spells
 * it (OK, InvalidArgument, Unavailable, ...). Counting never blocks or throws into a call.
 */
@GlobalInterceptor
@ApplicationScoped
public class GrpcServerMetrics implements ServerInterceptor {
    private static final Duration[] BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

    @Inject
    MeterRegistry registry;

    /** Meters of one method, created once. */
    private record MethodMeters(Counter started, Counter received, Counter sent, Timer handling,
                                String type, String service, String method) {
    }

    private final Map<String, MethodMeters> meters = new ConcurrentHashMap<>();
    private final Map<String, Counter> handled = new ConcurrentHashMap<>();

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                        ServerCallHandler<Q, R> next) {
        MethodMeters m = meters.computeIfAbsent(call.getMethodDescriptor().getFullMethodName(),
                name -> register(call.getMethodDescriptor()));
        m.started().increment();
        long start = System.nanoTime();
        ServerCall<Q, R> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void sendMessage(R message) {
                m.sent().increment();
                super.sendMessage(message);
            }

            @Override
            public void close(Status status, Metadata trailers) {
                handled(m, status.getCode()).increment();
                m.handling().record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
                super.close(status, trailers);
            }
        };
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(counted, headers)) {
            @Override
            public void onMessage(Q message) {
                m.received().increment();
                super.onMessage(message);
            }
        };
    }

    private MethodMeters register(MethodDescriptor<?, ?> d) {
        String type = switch (d.getType()) {
            case UNARY -> "unary";
            case CLIENT_STREAMING -> "client_stream";
            case SERVER_STREAMING -> "server_stream";
            default -> "bidi_stream";
        };
        String service = d.getServiceName();
        String method = d.getBareMethodName();
        return new MethodMeters(
                counter("grpc_server_started", "Total number of RPCs started on the server.", type, service, method),
                counter("grpc_server_msg_received", "Total number of RPC stream messages received on the server.",
                        type, service, method),
                counter("grpc_server_msg_sent", "Total number of gRPC stream messages sent by the server.",
                        type, service, method),
                Timer.builder("grpc_server_handling_seconds")
                        .description("Histogram of response latency (seconds) of gRPC that had been application-level"
                                + " handled by the server.")
                        .tags("grpc_type", type, "grpc_service", service, "grpc_method", method)
                        .serviceLevelObjectives(BUCKETS).register(registry),
                type, service, method);
    }

    private Counter counter(String name, String help, String type, String service, String method) {
        return Counter.builder(name).description(help)
                .tags("grpc_type", type, "grpc_service", service, "grpc_method", method).register(registry);
    }

    private Counter handled(MethodMeters m, Status.Code code) {
        String goCode = goSpelling(code);
        return handled.computeIfAbsent(m.service() + "/" + m.method() + "/" + goCode, k -> Counter
                .builder("grpc_server_handled")
                .description("Total number of RPCs completed on the server, regardless of success or failure.")
                .tags("grpc_type", m.type(), "grpc_service", m.service(), "grpc_method", m.method(), "grpc_code", goCode)
                .register(registry));
    }

    /** grpc-go's {@code codes.Code.String()}: CamelCase, "OK" for OK. */
    static String goSpelling(Status.Code code) {
        if (code == Status.Code.OK) {
            return "OK";
        }
        StringBuilder sb = new StringBuilder();
        for (String part : code.name().split("_")) {
            sb.append(part.charAt(0)).append(part.substring(1).toLowerCase(java.util.Locale.ROOT));
        }
        return code == Status.Code.CANCELLED ? "Canceled" : sb.toString();
    }
}
