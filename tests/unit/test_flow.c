/* Tests for per-channel credit flow control. */
#include "relay/err.h"
#include "relay/flow.h"
#include "relay/frame.h"
#include "tests/unit/suites.h"

static void test_window_exhaustion_gives_sendable_zero(void)
{
	struct jg_flow f;

	jg_flow_init(&f, 1000, 1000);
	CU_ASSERT_EQUAL(jg_flow_sendable(&f, 600), 600);
	CU_ASSERT_EQUAL(jg_flow_sent(&f, 600), 0);
	CU_ASSERT_EQUAL(jg_flow_sendable(&f, 600), 400);
	CU_ASSERT_EQUAL(jg_flow_sent(&f, 400), 0);
	CU_ASSERT_EQUAL(jg_flow_sendable(&f, 1), 0);
	CU_ASSERT_EQUAL(jg_flow_sent(&f, 1), JG_ERR_FLOW);
	CU_ASSERT_EQUAL(f.send_window, 0);
}

static void test_window_frame_refills(void)
{
	struct jg_flow f;

	jg_flow_init(&f, 10, 10);
	jg_flow_sent(&f, 10);
	CU_ASSERT_EQUAL(jg_flow_on_window(&f, 7), 0);
	CU_ASSERT_EQUAL(jg_flow_sendable(&f, 100), 7);
	CU_ASSERT_EQUAL(jg_flow_on_window(&f, 0), JG_ERR_PROTO);
}

static void test_window_overflow_beyond_2_31_is_an_error(void)
{
	struct jg_flow f;

	jg_flow_init(&f, JG_FRAME_MAX_WINDOW - 10, 10);
	CU_ASSERT_EQUAL(jg_flow_on_window(&f, 10), 0);
	CU_ASSERT_EQUAL(f.send_window, JG_FRAME_MAX_WINDOW);
	CU_ASSERT_EQUAL(jg_flow_on_window(&f, 1), JG_ERR_PROTO);
	CU_ASSERT_EQUAL(jg_flow_on_window(&f, 0xffffffffu), JG_ERR_PROTO);
	CU_ASSERT_EQUAL(f.send_window, JG_FRAME_MAX_WINDOW);
}

static void test_receive_overrun_is_an_error(void)
{
	struct jg_flow f;

	jg_flow_init(&f, 0, 100);
	CU_ASSERT_EQUAL(jg_flow_on_data(&f, 60), 0);
	CU_ASSERT_EQUAL(jg_flow_on_data(&f, 40), 0);
	CU_ASSERT_EQUAL(jg_flow_on_data(&f, 1), JG_ERR_FLOW);
}

static void test_credit_is_batched_until_half_the_window(void)
{
	struct jg_flow f;

	jg_flow_init(&f, 0, 262144);
	CU_ASSERT_EQUAL(jg_flow_on_data(&f, 200000), 0);
	CU_ASSERT_EQUAL(jg_flow_consumed(&f, 32768), 0);
	CU_ASSERT_EQUAL(jg_flow_consumed(&f, 32768), 0);
	CU_ASSERT_EQUAL(jg_flow_consumed(&f, 32768), 0);
	CU_ASSERT_EQUAL(jg_flow_consumed(&f, 32767), 0);
	CU_ASSERT_EQUAL(jg_flow_consumed(&f, 1), 131072);
	CU_ASSERT_EQUAL(f.recv_window, 262144 - 200000 + 131072);
	CU_ASSERT_EQUAL(jg_flow_consumed(&f, 10), 0);
	CU_ASSERT_EQUAL(jg_flow_flush(&f), 10);
	CU_ASSERT_EQUAL(jg_flow_flush(&f), 0);
}

static void test_over_reported_consumption_never_grows_the_window(void)
{
	struct jg_flow f;

	jg_flow_init(&f, 0, 1000);
	jg_flow_on_data(&f, 300);
	CU_ASSERT_EQUAL(jg_flow_consumed(&f, 5000), 0); /* 300 owed: under half, batched */
	CU_ASSERT_EQUAL(jg_flow_flush(&f), 300);
	CU_ASSERT_EQUAL(f.recv_window, 1000);
	CU_ASSERT_EQUAL(jg_flow_consumed(&f, 1), 0);
	CU_ASSERT_EQUAL(jg_flow_flush(&f), 0);
}

int jg_test_register_flow(void)
{
	CU_pSuite s = CU_add_suite("flow", NULL, NULL);

	if (s == NULL)
		return -1;
	if (!CU_add_test(s, "window exhaustion gives sendable 0",
			 test_window_exhaustion_gives_sendable_zero) ||
	    !CU_add_test(s, "WINDOW refills", test_window_frame_refills) ||
	    !CU_add_test(s, "window overflow beyond 2^31-1 is an error",
			 test_window_overflow_beyond_2_31_is_an_error) ||
	    !CU_add_test(s, "receive overrun is an error", test_receive_overrun_is_an_error) ||
	    !CU_add_test(s, "credit is batched until half the window",
			 test_credit_is_batched_until_half_the_window) ||
	    !CU_add_test(s, "over-reported consumption never grows the window",
			 test_over_reported_consumption_never_grows_the_window))
		return -1;
	return 0;
}
