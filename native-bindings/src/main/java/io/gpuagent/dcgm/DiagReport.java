package io.gpuagent.dcgm;

import java.util.List;

/**
 * A diagnostic's response ({@code dcgmDiagResponse_v12}, or {@code _v11} from a DCGM older than 4.2): every test
 * with its per-entity results and errors.
 */
public record DiagReport(String dcgmVersion, List<Test> tests) {

    public DiagReport {
        tests = List.copyOf(tests);
    }

    /** One test (DCGM 4's names: software, pcie, memory, ...). */
    public record Test(String name, DiagResult result, List<EntityResult> results, List<Error> errors) {
        public Test {
            results = List.copyOf(results);
            errors = List.copyOf(errors);
        }
    }

    public record EntityResult(Entity entity, DiagResult result) {
    }

    /** A {@code DCGM_FR_*} code with its message. */
    public record Error(Entity entity, int code, int category, int severity, String message) {
    }

    /** Whether no test failed (a warning or a skip still passes). */
    public boolean passed() {
        return tests.stream().noneMatch(t -> t.result() == DiagResult.FAIL);
    }

    /** The names of the tests that failed. */
    public List<String> failedTests() {
        return tests.stream().filter(t -> t.result() == DiagResult.FAIL).map(Test::name).toList();
    }
}
