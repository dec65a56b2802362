/* unit.h — shared main() for the Check test programs: one suite per program.
 * Honours CK_RUN_CASE / CK_FORK / CK_TAP_LOG_FILE_NAME as Check does. */
#ifndef MESHD_TEST_UNIT_H
#define MESHD_TEST_UNIT_H

#include <check.h>
#include <stdlib.h>

#define UNIT_MAIN(suite_fn)                                                   \
	int main(void)                                                        \
	{                                                                     \
		SRunner *sr = srunner_create(suite_fn());                     \
		srunner_run_all(sr, CK_ENV);                                  \
		int failed = srunner_ntests_failed(sr);                       \
		srunner_free(sr);                                             \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;                  \
	}

#endif
