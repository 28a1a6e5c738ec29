package io.gpuagent.dcgm.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gpuagent.dcgm.Dcgm;
import io.gpuagent.dcgm.DcgmException;
import io.gpuagent.dcgm.DcgmReturn;
import io.gpuagent.dcgm.DiagLevel;
import io.gpuagent.dcgm.DiagReport;
import io.gpuagent.dcgm.DiagResult;
import io.gpuagent.dcgm.Entity;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Diagnostics on the fake DCGM: per-test and per-GPU results, both response versions (and run-diag versions through
 * dcgmActionValidate_v2), a stop, IN_USE.
 */
class DcgmDiagTest {

    @AfterEach
    void defaults() {
        FakeDcgm.scenario();
    }

    @Test
    void r1PassesOnEveryGpuOfTheGroup() {
        try (Dcgm dcgm = FakeDcgm.embedded()) {
            long group = dcgm.createGroup("diag", List.of(Entity.gpu(2), Entity.gpu(5)));
            DiagReport report = dcgm.runDiagnostic(group, DiagLevel.R1);
            assertTrue(report.passed());
            assertEquals("4.6.0", report.dcgmVersion());
            assertEquals(List.of("software"), report.tests().stream().map(DiagReport.Test::name).toList());
            assertEquals(List.of(new DiagReport.EntityResult(Entity.gpu(2), DiagResult.PASS),
                    new DiagReport.EntityResult(Entity.gpu(5), DiagResult.PASS)), report.tests().getFirst().results());
            dcgm.destroyGroup(group);
        }
    }

    @Test
    void aScriptedFailureNamesTheTestTheGpuAndTheCodeInBothResponseVersions() {
        String[] lines = {"dcgm.diag.memory.gpu.5 = fail 48 DBE on GPU 5", "dcgm.diag.pcie.gpu.* = skip"};
        for (String library : List.of(FakeDcgm.LIBRARY.toString(), FakeDcgm.LIBRARY_40.toString())) {
            FakeDcgm.scenario(lines);
            try (Dcgm dcgm = Dcgm.embedded(library)) {
                long group = dcgm.createGroup("diag", List.of(Entity.gpu(2), Entity.gpu(5)));
                DiagReport report = dcgm.runDiagnostic(group, DiagLevel.R2);
                assertEquals(report, dcgm.validate(group, DiagLevel.R2), "dcgmActionValidate_v2 answers the same");
                assertFalse(report.passed(), library);
                assertEquals(List.of("memory"), report.failedTests(), library);
                assertEquals(List.of("software", "pcie", "memory"), report.tests().stream().map(DiagReport.Test::name).toList());
                assertEquals(DiagResult.SKIP, report.tests().get(1).result());
                DiagReport.Test memory = report.tests().get(2);
                assertEquals(List.of(new DiagReport.EntityResult(Entity.gpu(2), DiagResult.PASS),
                        new DiagReport.EntityResult(Entity.gpu(5), DiagResult.FAIL)), memory.results());
                DiagReport.Error error = memory.errors().getFirst();
                assertEquals(Entity.gpu(5), error.entity());
                assertEquals(48, error.code());
                assertEquals("DBE on GPU 5", error.message());
                dcgm.destroyGroup(group);
            }
        }
    }

    @Test
    void aRunningDiagnosticIsStoppedFromAnotherThread() throws Exception {
        FakeDcgm.scenario("dcgm.diag.running_s = 600");
        try (Dcgm dcgm = FakeDcgm.embedded()) {
            CompletableFuture<DiagReport> run = CompletableFuture.supplyAsync(() -> dcgm.runDiagnostic(Dcgm.ALL_GPUS, DiagLevel.R3));
            // A stop before the run has begun stops nothing: repeat until the run has ended.
            while (!run.isDone()) {
                dcgm.stopDiagnostic();
                try {
                    run.get(20, TimeUnit.MILLISECONDS);
                } catch (TimeoutException | ExecutionException e) {
                    // still running, or ended (checked below)
                }
            }
            ExecutionException stopped = assertThrows(ExecutionException.class, run::get);
            assertEquals(DcgmReturn.NVVS_KILLED, ((DcgmException) stopped.getCause()).result());
        }
    }

    @Test
    void inUseIsTheHostsAnswerWhileTheGpuIsBusy() {
        FakeDcgm.scenario("dcgm.error.dcgmRunDiagnostic = -34");
        try (Dcgm dcgm = FakeDcgm.embedded()) {
            DcgmException e = assertThrows(DcgmException.class,
                    () -> dcgm.runDiagnostic(Dcgm.ALL_GPUS, DiagLevel.R1));
            assertEquals(DcgmReturn.IN_USE, e.result());
        }
    }
}
