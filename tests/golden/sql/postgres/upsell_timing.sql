WITH inputs AS MATERIALIZED (
  SELECT
    CAST("account_id" AS VARCHAR) AS "account_id",
    COALESCE(CAST("account_name" AS VARCHAR), '') AS "_account_name",
    COALESCE(CAST("owner" AS VARCHAR), '') AS "_owner",
    CASE
      WHEN CAST("arr" AS DOUBLE PRECISION) < CAST(0.0 AS DOUBLE PRECISION)
      THEN NULL
      ELSE CAST("arr" AS DOUBLE PRECISION)
    END AS "arr",
    CAST("customer_since" AS DATE) AS "customer_since",
    CASE
      WHEN CAST("seats_licensed" AS BIGINT) < CAST(0.0 AS DOUBLE PRECISION)
      THEN NULL
      ELSE CAST("seats_licensed" AS BIGINT)
    END AS "seats_licensed",
    CASE
      WHEN COALESCE(
        (
          CASE
            WHEN NOT (
              CAST("seats_active_history" AS BIGINT[]) IS NULL
            )
            THEN (
              SELECT
                COUNT(*)
              FROM UNNEST(CAST("seats_active_history" AS BIGINT[])) WITH ORDINALITY AS u2(v, i)
              WHERE
                u2.v < CAST(0.0 AS DOUBLE PRECISION)
            )
          END > 0
          OR CASE
            WHEN NOT (
              CAST("seats_active_history" AS BIGINT[]) IS NULL
            )
            THEN (
              SELECT
                COUNT(*)
              FROM UNNEST(CAST("seats_active_history" AS BIGINT[])) WITH ORDINALITY AS u1(v, i)
              WHERE
                u1.v IS NULL
            )
          END > 0
        ),
        FALSE
      )
      THEN NULL
      ELSE CAST("seats_active_history" AS BIGINT[])
    END AS "seats_active_history",
    CASE
      WHEN CAST("usage_limit" AS DOUBLE PRECISION) < CAST(0.0 AS DOUBLE PRECISION)
      THEN NULL
      ELSE CAST("usage_limit" AS DOUBLE PRECISION)
    END AS "usage_limit",
    CASE
      WHEN COALESCE(
        (
          CASE
            WHEN NOT (
              CAST("usage_history" AS DOUBLE PRECISION[]) IS NULL
            )
            THEN (
              SELECT
                COUNT(*)
              FROM UNNEST(CAST("usage_history" AS DOUBLE PRECISION[])) WITH ORDINALITY AS u4(v, i)
              WHERE
                u4.v < CAST(0.0 AS DOUBLE PRECISION)
            )
          END > 0
          OR CASE
            WHEN NOT (
              CAST("usage_history" AS DOUBLE PRECISION[]) IS NULL
            )
            THEN (
              SELECT
                COUNT(*)
              FROM UNNEST(CAST("usage_history" AS DOUBLE PRECISION[])) WITH ORDINALITY AS u3(v, i)
              WHERE
                u3.v IS NULL
            )
          END > 0
        ),
        FALSE
      )
      THEN NULL
      ELSE CAST("usage_history" AS DOUBLE PRECISION[])
    END AS "usage_history",
    CAST("gated_feature_attempts" AS DATE[]) AS "gated_feature_attempts",
    CASE
      WHEN CAST("departments_active" AS BIGINT) < CAST(0.0 AS DOUBLE PRECISION)
      THEN NULL
      ELSE CAST("departments_active" AS BIGINT)
    END AS "departments_active",
    CASE
      WHEN CAST("departments_at_purchase" AS BIGINT) < CAST(0.0 AS DOUBLE PRECISION)
      THEN NULL
      ELSE CAST("departments_at_purchase" AS BIGINT)
    END AS "departments_at_purchase",
    CASE
      WHEN CAST("power_users" AS BIGINT) < CAST(0.0 AS DOUBLE PRECISION)
      THEN NULL
      ELSE CAST("power_users" AS BIGINT)
    END AS "power_users",
    CASE
      WHEN CAST("health_score" AS DOUBLE PRECISION) < CAST(0.0 AS DOUBLE PRECISION)
      OR CAST("health_score" AS DOUBLE PRECISION) > CAST(100.0 AS DOUBLE PRECISION)
      THEN NULL
      ELSE CAST("health_score" AS DOUBLE PRECISION)
    END AS "health_score",
    CAST("success_milestone_on" AS DATE) AS "success_milestone_on",
    CAST("champion_last_engaged_on" AS DATE) AS "champion_last_engaged_on",
    CAST("champion_changed_on" AS DATE) AS "champion_changed_on",
    CAST("renewal_date" AS DATE) AS "renewal_date",
    CAST("last_renewal_date" AS DATE) AS "last_renewal_date",
    CAST("funding_announced_on" AS DATE) AS "funding_announced_on",
    CASE
      WHEN CAST("headcount_growth_90d" AS DOUBLE PRECISION) < -(
        CAST(1.0 AS DOUBLE PRECISION)
      )
      OR CAST("headcount_growth_90d" AS DOUBLE PRECISION) > CAST(1.0 AS DOUBLE PRECISION)
      THEN NULL
      ELSE CAST("headcount_growth_90d" AS DOUBLE PRECISION)
    END AS "headcount_growth_90d",
    CAST("open_ticket_priorities" AS VARCHAR[]) AS "open_ticket_priorities",
    CASE
      WHEN CAST("nps_score" AS BIGINT) < CAST(0.0 AS DOUBLE PRECISION)
      OR CAST("nps_score" AS BIGINT) > CAST(10.0 AS DOUBLE PRECISION)
      THEN NULL
      ELSE CAST("nps_score" AS BIGINT)
    END AS "nps_score",
    CAST("nps_responded_on" AS DATE) AS "nps_responded_on",
    CAST("competitor_evaluation" AS BOOLEAN) AS "competitor_evaluation",
    CAST("downgrade_requested_on" AS DATE) AS "downgrade_requested_on",
    CAST("named_gaps" AS VARCHAR[]) AS "named_gaps",
    CAST("named_gaps_on" AS DATE) AS "named_gaps_on",
    CAST("engagement_trend" AS VARCHAR) AS "engagement_trend"
  FROM accounts
), derived_1 AS MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN NOT (
        "usage_history" IS NULL
      )
      AND CASE
        WHEN NOT (
          "usage_history" IS NULL
        )
        THEN (
          SELECT
            COUNT(*)
          FROM UNNEST("usage_history") WITH ORDINALITY AS u9(v, i)
        )
      END >= 2
      THEN (
        SELECT
          COUNT(*)
        FROM UNNEST("usage_history") WITH ORDINALITY AS u7(v, i), UNNEST("usage_history") WITH ORDINALITY AS u8(v, i)
        WHERE
          u7.i > COALESCE(
            (
              SELECT
                MAX(u5.i)
              FROM UNNEST("usage_history") WITH ORDINALITY AS u5(v, i), UNNEST("usage_history") WITH ORDINALITY AS u6(v, i)
              WHERE
                CASE
                  WHEN u6.v IS NULL OR u6.v = 0
                  THEN TRUE
                  ELSE CAST(u5.v AS DOUBLE PRECISION) / CAST(u6.v AS DOUBLE PRECISION) - 1 < CAST(0.199999999 AS DOUBLE PRECISION)
                END
                AND u6.i = u5.i - 1
            ),
            -1
          )
          AND u8.i = u7.i - 1
      )
    END AS "usage_growth_cycles_at_20",
    CASE
      WHEN NOT (
        "gated_feature_attempts" IS NULL
      )
      THEN (
        SELECT
          COUNT(*)
        FROM UNNEST("gated_feature_attempts") WITH ORDINALITY AS u10(v, i)
        WHERE
          u10.v BETWEEN CAST(CAST('2026-11-02' AS DATE) - INTERVAL '14 DAY' AS DATE) AND CAST('2026-11-02' AS DATE)
      )
    END AS "gated_attempts_14d",
    (
      "departments_active"
    ) - (
      "departments_at_purchase"
    ) AS "new_departments",
    CAST(EXTRACT(epoch FROM CAST("renewal_date" AS TIMESTAMP) - CAST(CAST('2026-11-02' AS DATE) AS TIMESTAMP)) / 86400 AS BIGINT) AS "days_to_renewal",
    CAST(EXTRACT(epoch FROM CAST(CAST('2026-11-02' AS DATE) AS TIMESTAMP) - CAST("last_renewal_date" AS TIMESTAMP)) / 86400 AS BIGINT) AS "days_since_renewal",
    CAST(EXTRACT(epoch FROM CAST(CAST('2026-11-02' AS DATE) AS TIMESTAMP) - CAST("champion_last_engaged_on" AS TIMESTAMP)) / 86400 AS BIGINT) AS "days_since_champion_contact",
    CAST(EXTRACT(epoch FROM CAST(CAST('2026-11-02' AS DATE) AS TIMESTAMP) - CAST("champion_changed_on" AS TIMESTAMP)) / 86400 AS BIGINT) AS "days_since_champion_change",
    CAST(EXTRACT(epoch FROM CAST(CAST('2026-11-02' AS DATE) AS TIMESTAMP) - CAST("funding_announced_on" AS TIMESTAMP)) / 86400 AS BIGINT) AS "days_since_funding",
    CAST(EXTRACT(epoch FROM CAST(CAST('2026-11-02' AS DATE) AS TIMESTAMP) - CAST("nps_responded_on" AS TIMESTAMP)) / 86400 AS BIGINT) AS "days_since_nps",
    CAST(EXTRACT(epoch FROM CAST(CAST('2026-11-02' AS DATE) AS TIMESTAMP) - CAST("downgrade_requested_on" AS TIMESTAMP)) / 86400 AS BIGINT) AS "days_since_downgrade_request",
    CAST(EXTRACT(epoch FROM CAST(CAST('2026-11-02' AS DATE) AS TIMESTAMP) - CAST("named_gaps_on" AS TIMESTAMP)) / 86400 AS BIGINT) AS "days_since_gap_named",
    CAST(EXTRACT(epoch FROM CAST(CAST('2026-11-02' AS DATE) AS TIMESTAMP) - CAST("success_milestone_on" AS TIMESTAMP)) / 86400 AS BIGINT) AS "days_since_milestone",
    CASE
      WHEN NOT (
        "open_ticket_priorities" IS NULL
      )
      THEN (
        SELECT
          COUNT(*)
        FROM UNNEST("open_ticket_priorities") WITH ORDINALITY AS u11(v, i)
        WHERE
          REPLACE(LOWER(TRIM(CAST(u11.v AS VARCHAR))), 'ß', 'ss') IN ('p1', 'p2')
      )
    END AS "open_p1_p2_tickets",
    CASE
      WHEN NOT (
        "named_gaps" IS NULL
      )
      THEN (
        SELECT
          COUNT(*)
        FROM UNNEST("named_gaps") WITH ORDINALITY AS u12(v, i)
      )
    END AS "named_gap_count",
    CASE
      WHEN REPLACE(LOWER(TRIM(CAST("engagement_trend" AS VARCHAR))), 'ß', 'ss') = 'declining'
      THEN 'at_risk'
      WHEN "customer_since" IS NULL
      THEN NULL
      WHEN CAST(EXTRACT(epoch FROM CAST(CAST('2026-11-02' AS DATE) AS TIMESTAMP) - CAST("customer_since" AS TIMESTAMP)) / 86400 AS BIGINT) < 0
      THEN NULL
      WHEN CAST(EXTRACT(epoch FROM CAST(CAST('2026-11-02' AS DATE) AS TIMESTAMP) - CAST("customer_since" AS TIMESTAMP)) / 86400 AS BIGINT) <= 30
      THEN 'onboarding'
      WHEN CAST(EXTRACT(epoch FROM CAST(CAST('2026-11-02' AS DATE) AS TIMESTAMP) - CAST("customer_since" AS TIMESTAMP)) / 86400 AS BIGINT) <= 180
      THEN 'growth'
      ELSE 'maturity'
    END AS "lifecycle_stage"
  FROM inputs
), derived_2 AS MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN NOT (
        "seats_active_history" IS NULL
        OR (
          (
            "seats_licensed" IS NULL OR "seats_licensed" = 0
          )
        )
      )
      THEN (
        SELECT
          CAST(u13.v AS DOUBLE PRECISION) / CAST("seats_licensed" AS DOUBLE PRECISION)
        FROM UNNEST("seats_active_history") WITH ORDINALITY AS u13(v, i)
        ORDER BY
          u13.i DESC NULLS LAST
        LIMIT 1
      )
    END AS "seat_utilization",
    CASE
      WHEN NOT (
        "seats_active_history" IS NULL
        OR (
          (
            "seats_licensed" IS NULL OR "seats_licensed" = 0
          )
        )
      )
      THEN (
        SELECT
          COUNT(*)
        FROM UNNEST("seats_active_history") WITH ORDINALITY AS u15(v, i)
        WHERE
          u15.i > COALESCE(
            (
              SELECT
                MAX(u14.i)
              FROM UNNEST("seats_active_history") WITH ORDINALITY AS u14(v, i)
              WHERE
                CAST(u14.v AS DOUBLE PRECISION) / CAST("seats_licensed" AS DOUBLE PRECISION) IS NULL
                OR CAST(u14.v AS DOUBLE PRECISION) / CAST("seats_licensed" AS DOUBLE PRECISION) < CAST(0.8 AS DOUBLE PRECISION)
            ),
            -1
          )
      )
    END AS "seat_cycles_at_80",
    CASE
      WHEN NOT (
        "usage_history" IS NULL
        OR (
          (
            "usage_limit" IS NULL OR "usage_limit" = 0
          )
        )
      )
      THEN (
        SELECT
          CAST(u16.v AS DOUBLE PRECISION) / CAST("usage_limit" AS DOUBLE PRECISION)
        FROM UNNEST("usage_history") WITH ORDINALITY AS u16(v, i)
        ORDER BY
          u16.i DESC NULLS LAST
        LIMIT 1
      )
    END AS "usage_utilization",
    CASE
      WHEN NOT (
        "usage_history" IS NULL
        OR (
          (
            "usage_limit" IS NULL OR "usage_limit" = 0
          )
        )
      )
      THEN (
        SELECT
          COUNT(*)
        FROM UNNEST("usage_history") WITH ORDINALITY AS u18(v, i)
        WHERE
          u18.i > COALESCE(
            (
              SELECT
                MAX(u17.i)
              FROM UNNEST("usage_history") WITH ORDINALITY AS u17(v, i)
              WHERE
                CAST(u17.v AS DOUBLE PRECISION) / CAST("usage_limit" AS DOUBLE PRECISION) IS NULL
                OR CAST(u17.v AS DOUBLE PRECISION) / CAST("usage_limit" AS DOUBLE PRECISION) <= CAST(0.7 AS DOUBLE PRECISION)
            ),
            -1
          )
      )
    END AS "usage_cycles_at_70",
    COALESCE((
      (
        "days_since_milestone"
      ) >= (
        0
      )
    ), FALSE) AS "milestone_documented",
    COALESCE((
      (
        "gated_attempts_14d"
      ) >= (
        2
      )
    ), FALSE) AS "feature_ceiling_hit",
    COALESCE(
      (
        (
          (
            (
              0
            ) <= (
              "days_since_funding"
            )
          )
          AND (
            (
              "days_since_funding"
            ) <= (
              90
            )
          )
        )
        OR (
          (
            "headcount_growth_90d"
          ) > (
            CAST(0.2 AS DOUBLE PRECISION)
          )
        )
      ),
      FALSE
    ) AS "business_event"
  FROM derived_1
), derived_3 AS MATERIALIZED (
  SELECT
    *,
    (
      SELECT
        MAX(u19.v)
      FROM UNNEST(ARRAY["seat_utilization", "usage_utilization"]) WITH ORDINALITY AS u19(v, i)
    ) AS "max_limit_utilization"
  FROM derived_2
), derived_4 AS MATERIALIZED (
  SELECT
    *,
    COALESCE(
      (
        (
          (
            "max_limit_utilization"
          ) >= (
            CAST(1.0 AS DOUBLE PRECISION)
          )
        )
        OR (
          "business_event"
        )
      ),
      FALSE
    ) AS "urgent_usage"
  FROM derived_3
), conditions AS MATERIALIZED (
  SELECT
    "account_id",
    "_account_name",
    "_owner",
    COALESCE(
      (
        (
          (
            "max_limit_utilization"
          ) > (
            CAST(0.9 AS DOUBLE PRECISION)
          )
        )
        AND (
          "feature_ceiling_hit"
        )
      ),
      FALSE
    ) AS "_c0",
    COALESCE(
      (
        (
          "max_limit_utilization"
        ) >= (
          CAST(0.8 AS DOUBLE PRECISION)
        )
      ),
      FALSE
    ) AS "_c1",
    COALESCE((
      (
        "new_departments"
      ) >= (
        1
      )
    ), FALSE) AS "_c2",
    COALESCE((
      "feature_ceiling_hit"
    ), FALSE) AS "_c3",
    COALESCE(
      (
        (
          "milestone_documented"
        )
        AND (
          (
            "health_score"
          ) > (
            85
          )
        )
        AND (
          (
            "days_since_champion_contact"
          ) <= (
            14
          )
        )
      ),
      FALSE
    ) AS "_c4",
    COALESCE(
      (
        (
          "milestone_documented"
        )
        AND (
          (
            "health_score"
          ) >= (
            75
          )
        )
        AND (
          (
            "days_since_champion_contact"
          ) <= (
            30
          )
        )
      ),
      FALSE
    ) AS "_c5",
    COALESCE(
      (
        (
          "milestone_documented"
        ) AND (
          (
            "health_score"
          ) >= (
            65
          )
        )
      ),
      FALSE
    ) AS "_c6",
    COALESCE(
      (
        (
          (
            60
          ) <= (
            "days_to_renewal"
          )
        )
        AND (
          (
            "days_to_renewal"
          ) <= (
            90
          )
        )
      ),
      FALSE
    ) AS "_c7",
    COALESCE((
      "business_event"
    ), FALSE) AS "_c8",
    COALESCE(
      (
        (
          (
            30
          ) <= (
            "days_to_renewal"
          )
        )
        AND (
          (
            "days_to_renewal"
          ) < (
            60
          )
        )
      ),
      FALSE
    ) AS "_c9",
    COALESCE(
      (
        (
          (
            "days_to_renewal"
          ) > (
            90
          )
        )
        AND (
          (
            NOT (
              NOT "days_since_renewal" IS NULL
            )
          )
          OR (
            (
              "days_since_renewal"
            ) < (
              0
            )
          )
          OR (
            (
              "days_since_renewal"
            ) > (
              30
            )
          )
        )
      ),
      FALSE
    ) AS "_c10",
    COALESCE(
      (
        (
          (
            0
          ) <= (
            "days_since_renewal"
          )
        )
        AND (
          (
            "days_since_renewal"
          ) <= (
            30
          )
        )
      ),
      FALSE
    ) AS "_c11",
    COALESCE((
      (
        "health_score"
      ) >= (
        65
      )
    ), FALSE) AS "_c12",
    COALESCE((
      (
        "health_score"
      ) >= (
        75
      )
    ), FALSE) AS "_c13",
    COALESCE((
      "milestone_documented"
    ), FALSE) AS "_c14",
    COALESCE((
      (
        "days_since_champion_contact"
      ) <= (
        60
      )
    ), FALSE) AS "_c15",
    COALESCE((
      (
        "days_since_champion_contact"
      ) <= (
        30
      )
    ), FALSE) AS "_c16",
    COALESCE(
      (
        (
          REPLACE(LOWER("lifecycle_stage"), 'ß', 'ss')
        ) = (
          'at_risk'
        )
      ),
      FALSE
    ) AS "_c17",
    COALESCE((
      "competitor_evaluation"
    ), FALSE) AS "_c18",
    COALESCE(
      (
        (
          REPLACE(LOWER("lifecycle_stage"), 'ß', 'ss')
        ) = (
          'onboarding'
        )
      ),
      FALSE
    ) AS "_c19",
    COALESCE((
      (
        "open_p1_p2_tickets"
      ) >= (
        1
      )
    ), FALSE) AS "_c20",
    COALESCE(
      (
        (
          (
            "nps_score"
          ) <= (
            6
          )
        )
        AND (
          (
            (
              0
            ) <= (
              "days_since_nps"
            )
          )
          AND (
            (
              "days_since_nps"
            ) <= (
              60
            )
          )
        )
      ),
      FALSE
    ) AS "_c21",
    COALESCE(
      (
        (
          (
            0
          ) <= (
            "days_since_champion_change"
          )
        )
        AND (
          (
            "days_since_champion_change"
          ) <= (
            90
          )
        )
      ),
      FALSE
    ) AS "_c22",
    COALESCE(
      (
        (
          (
            0
          ) <= (
            "days_to_renewal"
          )
        )
        AND (
          (
            "days_to_renewal"
          ) < (
            30
          )
        )
      ),
      FALSE
    ) AS "_c23",
    COALESCE(
      (
        (
          (
            (
              0
            ) <= (
              "days_since_renewal"
            )
          )
          AND (
            (
              "days_since_renewal"
            ) <= (
              30
            )
          )
        )
        AND (
          NOT (
            "urgent_usage"
          )
        )
      ),
      FALSE
    ) AS "_c24",
    COALESCE(
      (
        (
          (
            (
              0
            ) <= (
              "days_since_renewal"
            )
          )
          AND (
            (
              "days_since_renewal"
            ) <= (
              30
            )
          )
        )
        AND (
          "urgent_usage"
        )
      ),
      FALSE
    ) AS "_c25",
    COALESCE(
      (
        (
          (
            0
          ) <= (
            "days_since_downgrade_request"
          )
        )
        AND (
          (
            "days_since_downgrade_request"
          ) <= (
            90
          )
        )
      ),
      FALSE
    ) AS "_c26",
    COALESCE(
      (
        (
          (
            90
          ) < (
            "days_since_downgrade_request"
          )
        )
        AND (
          (
            "days_since_downgrade_request"
          ) <= (
            365
          )
        )
      ),
      FALSE
    ) AS "_c27",
    COALESCE(
      (
        (
          "seat_utilization"
        ) >= (
          CAST(0.85 AS DOUBLE PRECISION)
        )
      ),
      FALSE
    ) AS "_c28",
    COALESCE((
      (
        "seat_cycles_at_80"
      ) >= (
        2
      )
    ), FALSE) AS "_c29",
    COALESCE((
      (
        "new_departments"
      ) >= (
        1
      )
    ), FALSE) AS "_c30",
    COALESCE(
      (
        (
          (
            "power_users"
          ) >= (
            1
          )
        )
        AND (
          (
            "seat_utilization"
          ) >= (
            CAST(0.7 AS DOUBLE PRECISION)
          )
        )
      ),
      FALSE
    ) AS "_c31",
    COALESCE((
      "feature_ceiling_hit"
    ), FALSE) AS "_c32",
    COALESCE((
      (
        "usage_cycles_at_70"
      ) >= (
        2
      )
    ), FALSE) AS "_c33",
    COALESCE((
      (
        "usage_growth_cycles_at_20"
      ) >= (
        2
      )
    ), FALSE) AS "_c34",
    COALESCE(
      (
        (
          (
            "named_gap_count"
          ) >= (
            1
          )
        )
        AND (
          (
            NOT (
              NOT "days_since_gap_named" IS NULL
            )
          )
          OR (
            (
              (
                0
              ) <= (
                "days_since_gap_named"
              )
            )
            AND (
              (
                "days_since_gap_named"
              ) <= (
                30
              )
            )
          )
        )
      ),
      FALSE
    ) AS "_c35",
    COALESCE(
      (
        (
          (
            60
          ) <= (
            "days_to_renewal"
          )
        )
        AND (
          (
            "days_to_renewal"
          ) <= (
            90
          )
        )
      ),
      FALSE
    ) AS "_c36",
    COALESCE((
      (
        "arr"
      ) >= (
        25000
      )
    ), FALSE) AS "_c37"
  FROM derived_4
), scored AS MATERIALIZED (
  SELECT
    *,
    CAST(CASE
      WHEN "_c0"
      THEN CAST(10.0 AS DOUBLE PRECISION)
      WHEN "_c1"
      THEN CAST(8.0 AS DOUBLE PRECISION)
      WHEN "_c2"
      THEN CAST(8.0 AS DOUBLE PRECISION)
      WHEN "_c3"
      THEN CAST(5.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS DOUBLE PRECISION) AS "score_product",
    CAST(CASE
      WHEN "_c4"
      THEN CAST(10.0 AS DOUBLE PRECISION)
      WHEN "_c5"
      THEN CAST(8.0 AS DOUBLE PRECISION)
      WHEN "_c6"
      THEN CAST(5.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS DOUBLE PRECISION) AS "score_relationship",
    CAST(CASE
      WHEN "_c7"
      THEN CAST(10.0 AS DOUBLE PRECISION)
      WHEN "_c8"
      THEN CAST(10.0 AS DOUBLE PRECISION)
      WHEN "_c9"
      THEN CAST(8.0 AS DOUBLE PRECISION)
      WHEN "_c10"
      THEN CAST(4.0 AS DOUBLE PRECISION)
      WHEN "_c11"
      THEN CAST(1.0 AS DOUBLE PRECISION)
      ELSE CAST(0.0 AS DOUBLE PRECISION)
    END AS DOUBLE PRECISION) AS "score_commercial",
    CAST(CASE
      WHEN "_c26"
      THEN CAST(30.0 AS DOUBLE PRECISION)
      WHEN "_c27"
      THEN CAST(30.0 AS DOUBLE PRECISION)
    END AS DOUBLE PRECISION) AS "_cap",
    CASE
      WHEN "_c17"
      THEN 'retention_focus'
      WHEN "_c18"
      THEN 'retention_focus'
      WHEN "_c19"
      THEN 'onboarding_focus'
      WHEN "_c20"
      THEN 'resolve_ticket'
      WHEN "_c21"
      THEN 'recovery_sequence'
      WHEN "_c22"
      THEN 'new_relationship'
      WHEN "_c23"
      THEN 'renewal_only'
      WHEN "_c24"
      THEN 'next_window'
      WHEN NOT "_c12"
      THEN 'health_recovery'
      WHEN NOT "_c14"
      THEN 'milestone_capture'
      WHEN NOT "_c15"
      THEN 're_engagement'
    END AS "_blocker_play",
    CASE
      WHEN "_c28"
      THEN 'seat_expansion'
      WHEN "_c29"
      THEN 'seat_expansion'
      WHEN "_c30"
      THEN 'multi_team_expansion'
      WHEN "_c31"
      THEN 'seat_expansion'
      WHEN "_c32"
      THEN 'plan_upgrade_feature'
      WHEN "_c33"
      THEN 'plan_upgrade_usage'
      WHEN "_c34"
      THEN 'plan_upgrade_usage'
      WHEN "_c35"
      THEN 'addon_gap'
      WHEN "_c36"
      THEN 'value_review'
    END AS "_trigger_play",
    CASE
      WHEN "_c28"
      THEN 'seat_headroom'
      WHEN "_c29"
      THEN 'seat_utilization_sustained'
      WHEN "_c30"
      THEN 'multi_team_spread'
      WHEN "_c31"
      THEN 'power_users_emerging'
      WHEN "_c32"
      THEN 'gated_feature_cluster'
      WHEN "_c33"
      THEN 'metered_usage_sustained'
      WHEN "_c34"
      THEN 'usage_velocity'
      WHEN "_c35"
      THEN 'named_gap'
      WHEN "_c36"
      THEN 'contract_anniversary'
    END AS "trigger",
    SUBSTRING(NULLIF(
      CASE WHEN "_c28" THEN '|seat_headroom' ELSE '' END || CASE WHEN "_c29" THEN '|seat_utilization_sustained' ELSE '' END || CASE WHEN "_c30" THEN '|multi_team_spread' ELSE '' END || CASE WHEN "_c31" THEN '|power_users_emerging' ELSE '' END || CASE WHEN "_c32" THEN '|gated_feature_cluster' ELSE '' END || CASE WHEN "_c33" THEN '|metered_usage_sustained' ELSE '' END || CASE WHEN "_c34" THEN '|usage_velocity' ELSE '' END || CASE WHEN "_c35" THEN '|named_gap' ELSE '' END || CASE WHEN "_c36" THEN '|contract_anniversary' ELSE '' END,
      ''
    ) FROM 2) AS "triggers",
    SUBSTRING(NULLIF(
      CASE WHEN "_c28" THEN '|seat' ELSE '' END || CASE WHEN "_c29" AND NOT "_c28" THEN '|seat' ELSE '' END || CASE WHEN "_c30" AND NOT "_c28" AND NOT "_c29" THEN '|seat' ELSE '' END || CASE
        WHEN "_c31" AND NOT "_c28" AND NOT "_c29" AND NOT "_c30"
        THEN '|seat'
        ELSE ''
      END || CASE WHEN "_c32" THEN '|plan' ELSE '' END || CASE WHEN "_c33" AND NOT "_c32" THEN '|plan' ELSE '' END || CASE WHEN "_c34" AND NOT "_c32" AND NOT "_c33" THEN '|plan' ELSE '' END || CASE WHEN "_c35" THEN '|addon' ELSE '' END || CASE WHEN "_c36" THEN '|anniversary' ELSE '' END,
      ''
    ) FROM 2) AS "upsell_types",
    SUBSTRING(NULLIF(
      CASE WHEN NOT "_c12" THEN '|health_floor' ELSE '' END || CASE WHEN NOT "_c13" THEN '|health_marginal' ELSE '' END || CASE WHEN NOT "_c14" THEN '|success_milestone' ELSE '' END || CASE WHEN NOT "_c15" THEN '|champion_not_cold' ELSE '' END || CASE WHEN NOT "_c16" THEN '|champion_recent' ELSE '' END,
      ''
    ) FROM 2) AS "failed_gates",
    SUBSTRING(NULLIF(
      CASE WHEN "_c17" THEN '|at_risk' ELSE '' END || CASE WHEN "_c18" THEN '|competitor_evaluation' ELSE '' END || CASE WHEN "_c19" THEN '|onboarding' ELSE '' END || CASE WHEN "_c20" THEN '|open_p1_p2_ticket' ELSE '' END || CASE WHEN "_c21" THEN '|nps_detractor' ELSE '' END || CASE WHEN "_c22" THEN '|champion_turnover' ELSE '' END || CASE WHEN "_c23" THEN '|renewal_close_only' ELSE '' END || CASE WHEN "_c24" THEN '|post_renewal_dead_zone' ELSE '' END || CASE WHEN "_c25" THEN '|post_renewal_urgent' ELSE '' END || CASE WHEN "_c26" THEN '|downgrade_recent' ELSE '' END || CASE WHEN "_c27" THEN '|downgrade_cooldown' ELSE '' END,
      ''
    ) FROM 2) AS "red_flags"
  FROM conditions
), weighted AS MATERIALIZED (
  SELECT
    *,
    (
      CAST(0.0 AS DOUBLE PRECISION) + "score_product" * CAST(0.4 AS DOUBLE PRECISION) + "score_relationship" * CAST(0.35 AS DOUBLE PRECISION) + "score_commercial" * CAST(0.25 AS DOUBLE PRECISION)
    ) * CAST(10.0 AS DOUBLE PRECISION) AS "_v"
  FROM scored
), rounding AS MATERIALIZED (
  SELECT
    *,
    "_v" * CAST(100.0 AS DOUBLE PRECISION) AS "_p",
    "_v" * CAST(134217729.0 AS DOUBLE PRECISION) - (
      "_v" * CAST(134217729.0 AS DOUBLE PRECISION) - "_v"
    ) AS "_hi",
    FLOOR("_v" * CAST(100.0 AS DOUBLE PRECISION)) AS "_f"
  FROM weighted
), tie AS MATERIALIZED (
  SELECT
    *,
    (
      (
        "_p" - "_f"
      ) - CAST(0.5 AS DOUBLE PRECISION)
    ) + (
      (
        "_hi" * CAST(100.0 AS DOUBLE PRECISION) - "_p"
      ) + (
        "_v" - "_hi"
      ) * CAST(100.0 AS DOUBLE PRECISION)
    ) AS "_t"
  FROM rounding
), rounded AS MATERIALIZED (
  SELECT
    *,
    CAST(CASE
      WHEN "_t" > CAST(0.0 AS DOUBLE PRECISION)
      THEN "_f" + CAST(1.0 AS DOUBLE PRECISION)
      WHEN "_t" < CAST(0.0 AS DOUBLE PRECISION)
      THEN "_f"
      WHEN "_f" - CAST(2.0 AS DOUBLE PRECISION) * FLOOR("_f" / CAST(2.0 AS DOUBLE PRECISION)) = CAST(0.0 AS DOUBLE PRECISION)
      THEN "_f"
      ELSE "_f" + CAST(1.0 AS DOUBLE PRECISION)
    END AS DOUBLE PRECISION) / CAST(100.0 AS DOUBLE PRECISION) AS "raw_score"
  FROM tie
), capped AS MATERIALIZED (
  SELECT
    *,
    CASE WHEN "_cap" IS NULL OR "raw_score" <= "_cap" THEN "raw_score" ELSE "_cap" END AS "score",
    NOT "_blocker_play" IS NULL AS "blocked"
  FROM rounded
), banded AS MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN "score" >= CAST(70.0 AS DOUBLE PRECISION)
      THEN 'act_now'
      WHEN "score" >= CAST(50.0 AS DOUBLE PRECISION)
      THEN 'warming'
      WHEN "score" >= CAST(30.0 AS DOUBLE PRECISION)
      THEN 'monitor'
      ELSE 'wait'
    END AS "band",
    CASE WHEN "raw_score" > "score" THEN "_cap" END AS "capped_at"
  FROM capped
), played AS MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN NOT "_blocker_play" IS NULL
      THEN "_blocker_play"
      WHEN "band" IN ('act_now') AND NOT "_trigger_play" IS NULL
      THEN "_trigger_play"
      ELSE CASE "band"
        WHEN 'act_now'
        THEN 'upsell_outreach'
        WHEN 'warming'
        THEN 'warming_touchpoint'
        WHEN 'monitor'
        THEN 'monitor_monthly'
        WHEN 'wait'
        THEN 'wait_and_strengthen'
      END
    END AS "play"
  FROM banded
), owned AS MATERIALIZED (
  SELECT
    *,
    CASE "play"
      WHEN 'upsell_outreach'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'seat_expansion'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'multi_team_expansion'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'plan_upgrade_feature'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'plan_upgrade_usage'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'addon_gap'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'value_review'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'warming_touchpoint'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'monitor_monthly'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'wait_and_strengthen'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'health_recovery'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'health_intervention'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'milestone_capture'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 're_engagement'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'warm_up_touchpoint'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'retention_focus'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'onboarding_focus'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'resolve_ticket'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'recovery_sequence'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'new_relationship'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'renewal_only'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'next_window'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'operational_framing'
      THEN CASE WHEN "_c37" THEN 'CSM + AE' ELSE 'CSM' END
    END AS "action_owner"
  FROM played
)
SELECT
  "account_id",
  "_account_name" AS "account_name",
  "_owner" AS "owner",
  "score",
  "raw_score",
  "band",
  "blocked",
  "capped_at",
  "score_product",
  "score_relationship",
  "score_commercial",
  "upsell_types",
  "trigger",
  "triggers",
  "failed_gates",
  "red_flags",
  "play",
  "action_owner"
FROM owned;
