package io.raftkv.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;

/**
 * Answers a request body that is not a valid protobuf message as etcd (grpc-go) does: status
 * INTERNAL, "grpc: error unmarshalling request: &lt;why&gt;". grpc-java would close such a call with
 * UNKNOWN "Application error processing RPC" because the parse failure escapes the handler.
 *
 * <p>Mechanism: each method's request marshaller is wrapped; on a parse failure it returns the
 * request type's empty message carrying a marker in an unknown field (tagged with a nonce chosen
 * per process, so that no client can forge it), and the wrapped handler closes a call whose
 * message carries the marker instead of passing it on. Nothing reaches the service, so nothing
 * is stored.
 */
public final class MalformedRequests {
    /** The highest field number protobuf allows: never used by etcd's messages. */
    private static final int MARKER_FIELD = 536_870_911;
    private static final long NONCE = new SecureRandom().nextLong();
    private static final String PREFIX = "grpc: error unmarshalling request: ";

    private MalformedRequests() {
    }

    /** Returns {@code service} with every method guarded. Call from a service's {@code bindService()}. */
    public static ServerServiceDefinition guard(ServerServiceDefinition service) {
        var builder = ServerServiceDefinition.builder(service.getServiceDescriptor().getName());
        for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
            builder.addMethod(guard(method));
        }
        return builder.build();
    }

    private static <Q, R> ServerMethodDefinition<Q, R> guard(ServerMethodDefinition<Q, R> method) {
        MethodDescriptor<Q, R> descriptor = method.getMethodDescriptor();
        if (!(descriptor.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<Q> proto)
                || !(proto.getMessagePrototype() instanceof Message)) {
            return method;
        }
        MethodDescriptor<Q, R> guarded = descriptor.toBuilder()
                .setRequestMarshaller(new GuardedMarshaller<>(proto))
                .build();
        return ServerMethodDefinition.create(guarded, new GuardedHandler<>(method.getServerCallHandler()));
    }

    /** The reason recorded in {@code message} by a failed parse, or null for a real request. */
    static String malformedReason(Object message) {
        if (!(message instanceof Message m)) {
            return null;
        }
        UnknownFieldSet.Field field = m.getUnknownFields().getField(MARKER_FIELD);
        if (field == null || field.getLengthDelimitedList().size() != 1 || field.getFixed64List().size() != 1
                || field.getFixed64List().get(0) != NONCE) {
            return null;
        }
        return field.getLengthDelimitedList().get(0).toStringUtf8();
    }

    /** Parses like the protobuf marshaller; a failure yields a marked empty message instead of throwing. */
    private record GuardedMarshaller<Q>(MethodDescriptor.PrototypeMarshaller<Q> delegate)
            implements MethodDescriptor.PrototypeMarshaller<Q> {
        @Override
        public InputStream stream(Q value) {
            return delegate.stream(value);
        }

        @Override
        @SuppressWarnings("unchecked")
        public Q parse(InputStream stream) {
            try {
                return delegate.parse(stream);
            } catch (RuntimeException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                String why = cause.getMessage() != null ? cause.getMessage() : cause.toString();
                UnknownFieldSet marker = UnknownFieldSet.newBuilder()
                        .addField(MARKER_FIELD, UnknownFieldSet.Field.newBuilder()
                                .addLengthDelimited(ByteString.copyFrom(why, StandardCharsets.UTF_8))
                                .addFixed64(NONCE)
                                .build())
                        .build();
                Message prototype = (Message) delegate.getMessagePrototype();
                return (Q) prototype.toBuilder().setUnknownFields(marker).build();
            }
        }

        @Override
        public Class<Q> getMessageClass() {
            return delegate.getMessageClass();
        }

        @Override
        public Q getMessagePrototype() {
            return delegate.getMessagePrototype();
        }
    }

    /** Closes a call with INTERNAL when its message is marked; otherwise passes everything on. */
    private record GuardedHandler<Q, R>(ServerCallHandler<Q, R> delegate) implements ServerCallHandler<Q, R> {
        @Override
        public ServerCall.Listener<Q> startCall(ServerCall<Q, R> call, Metadata headers) {
            ServerCall.Listener<Q> listener = delegate.startCall(call, headers);
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
                private boolean refused;

                @Override
                public void onMessage(Q message) {
                    if (refused) {
                        return;
                    }
                    String why = malformedReason(message);
                    if (why == null) {
                        super.onMessage(message);
                        return;
                    }
                    refused = true;
                    call.close(Status.INTERNAL.withDescription(PREFIX + why), new Metadata());
                    // the handler's own listener learns that the call ended, as on a client cancel
                    super.onCancel();
                }

                @Override
                public void onHalfClose() {
                    if (!refused) {
                        super.onHalfClose();
                    }
                }

                @Override
                public void onCancel() {
                    if (!refused) {
                        super.onCancel();
                    }
                }

                @Override
                public void onComplete() {
                    if (!refused) {
                        super.onComplete();
                    }
                }
            };
        }
    }
}
