package io.raftkv.operator.driver;

import io.raftkv.operator.plan.Observed;
import io.raftkv.operator.plan.Step;

import java.util.Optional;

/** Told about every planned step after it ran (Events, metrics, logs). Must not throw. */
public interface StepListener {

    /** {@code step} was planned from {@code observed} and executed; {@code failure} is set if it failed. */
    void stepTaken(Step step, Observed observed, Optional<Throwable> failure);

    /** A listener that ignores everything. */
    StepListener NONE = (s, o, f) -> { };
}
