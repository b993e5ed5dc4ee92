package io.raftkv.e2e;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Unary gRPC calls with request and response as raw protobuf bytes, for methods no client
 * library knows (raftkv.v1.Membership) and for request bodies no library would send (garbage).
 * Callers encode and decode the messages by field number.
 */
public final class RawGrpc implements AutoCloseable {
    private final ManagedChannel channel;

    /** A channel to the gRPC server at {@code url} (http://host:port). */
    public RawGrpc(String url) {
        URI target = URI.create(url);
        this.channel = NettyChannelBuilder.forAddress(target.getHost(), target.getPort()).usePlaintext().build();
    }

    /** Calls {@code service/method} with {@code body}; throws StatusRuntimeException on a non-OK status. */
    public byte[] unary(String service, String method, byte[] body, Duration deadline) {
        MethodDescriptor<byte[], byte[]> md = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service, method))
                .setRequestMarshaller(RawBytes.INSTANCE)
                .setResponseMarshaller(RawBytes.INSTANCE)
                .build();
        return ClientCalls.blockingUnaryCall(channel, md,
                CallOptions.DEFAULT.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS), body);
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private enum RawBytes implements MethodDescriptor.Marshaller<byte[]> {
        INSTANCE;

        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
