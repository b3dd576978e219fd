WITH inputs AS (
  SELECT
    CAST(`account_id` AS STRING) AS `account_id`,
    COALESCE(CAST(`account_name` AS STRING), '') AS `_account_name`,
    COALESCE(CAST(`owner` AS STRING), '') AS `_owner`,
    CASE
      WHEN CAST(`arr` AS DOUBLE) < CAST(0.0 AS DOUBLE)
      THEN NULL
      ELSE CAST(`arr` AS DOUBLE)
    END AS `arr`,
    CAST(`customer_since` AS DATE) AS `customer_since`,
    CASE
      WHEN CAST(`seats_licensed` AS BIGINT) < CAST(0.0 AS DOUBLE)
      THEN NULL
      ELSE CAST(`seats_licensed` AS BIGINT)
    END AS `seats_licensed`,
    CASE
      WHEN COALESCE(
        (
          SIZE(
            FILTER(
              CAST(`seats_active_history` AS ARRAY<BIGINT>),
              _u2 -> COALESCE((
                _u2 < CAST(0.0 AS DOUBLE)
              ), FALSE)
            )
          ) > 0
          OR SIZE(
            FILTER(
              CAST(`seats_active_history` AS ARRAY<BIGINT>),
              _u1 -> COALESCE((
                _u1 IS NULL
              ), FALSE)
            )
          ) > 0
        ),
        FALSE
      )
      THEN NULL
      ELSE CAST(`seats_active_history` AS ARRAY<BIGINT>)
    END AS `seats_active_history`,
    CASE
      WHEN CAST(`usage_limit` AS DOUBLE) < CAST(0.0 AS DOUBLE)
      THEN NULL
      ELSE CAST(`usage_limit` AS DOUBLE)
    END AS `usage_limit`,
    CASE
      WHEN COALESCE(
        (
          SIZE(
            FILTER(
              CAST(`usage_history` AS ARRAY<DOUBLE>),
              _u4 -> COALESCE((
                _u4 < CAST(0.0 AS DOUBLE)
              ), FALSE)
            )
          ) > 0
          OR SIZE(
            FILTER(CAST(`usage_history` AS ARRAY<DOUBLE>), _u3 -> COALESCE((
              _u3 IS NULL
            ), FALSE))
          ) > 0
        ),
        FALSE
      )
      THEN NULL
      ELSE CAST(`usage_history` AS ARRAY<DOUBLE>)
    END AS `usage_history`,
    CAST(`gated_feature_attempts` AS ARRAY<DATE>) AS `gated_feature_attempts`,
    CASE
      WHEN CAST(`departments_active` AS BIGINT) < CAST(0.0 AS DOUBLE)
      THEN NULL
      ELSE CAST(`departments_active` AS BIGINT)
    END AS `departments_active`,
    CASE
      WHEN CAST(`departments_at_purchase` AS BIGINT) < CAST(0.0 AS DOUBLE)
      THEN NULL
      ELSE CAST(`departments_at_purchase` AS BIGINT)
    END AS `departments_at_purchase`,
    CASE
      WHEN CAST(`power_users` AS BIGINT) < CAST(0.0 AS DOUBLE)
      THEN NULL
      ELSE CAST(`power_users` AS BIGINT)
    END AS `power_users`,
    CASE
      WHEN CAST(`health_score` AS DOUBLE) < CAST(0.0 AS DOUBLE)
      OR CAST(`health_score` AS DOUBLE) > CAST(100.0 AS DOUBLE)
      THEN NULL
      ELSE CAST(`health_score` AS DOUBLE)
    END AS `health_score`,
    CAST(`success_milestone_on` AS DATE) AS `success_milestone_on`,
    CAST(`champion_last_engaged_on` AS DATE) AS `champion_last_engaged_on`,
    CAST(`champion_changed_on` AS DATE) AS `champion_changed_on`,
    CAST(`renewal_date` AS DATE) AS `renewal_date`,
    CAST(`last_renewal_date` AS DATE) AS `last_renewal_date`,
    CAST(`funding_announced_on` AS DATE) AS `funding_announced_on`,
    CASE
      WHEN CAST(`headcount_growth_90d` AS DOUBLE) < -(
        CAST(1.0 AS DOUBLE)
      )
      OR CAST(`headcount_growth_90d` AS DOUBLE) > CAST(1.0 AS DOUBLE)
      THEN NULL
      ELSE CAST(`headcount_growth_90d` AS DOUBLE)
    END AS `headcount_growth_90d`,
    CAST(`open_ticket_priorities` AS ARRAY<STRING>) AS `open_ticket_priorities`,
    CASE
      WHEN CAST(`nps_score` AS BIGINT) < CAST(0.0 AS DOUBLE)
      OR CAST(`nps_score` AS BIGINT) > CAST(10.0 AS DOUBLE)
      THEN NULL
      ELSE CAST(`nps_score` AS BIGINT)
    END AS `nps_score`,
    CAST(`nps_responded_on` AS DATE) AS `nps_responded_on`,
    CAST(`competitor_evaluation` AS BOOLEAN) AS `competitor_evaluation`,
    CAST(`downgrade_requested_on` AS DATE) AS `downgrade_requested_on`,
    CAST(`named_gaps` AS ARRAY<STRING>) AS `named_gaps`,
    CAST(`named_gaps_on` AS DATE) AS `named_gaps_on`,
    CAST(`engagement_trend` AS STRING) AS `engagement_trend`
  FROM accounts
), derived_1 AS (
  SELECT
    *,
    CASE
      WHEN NOT (
        `usage_history` IS NULL
      ) AND SIZE(`usage_history`) >= 2
      THEN SIZE(`usage_history`) - COALESCE(
        ARRAY_MAX(
          TRANSFORM(
            `usage_history`,
            (_u5, _u6) -> CASE
              WHEN (
                _u6 + 1
              ) > 1
              AND COALESCE(
                (
                  CASE
                    WHEN TRY_ELEMENT_AT(`usage_history`, NULLIF((
                      _u6 + 1
                    ) - 1, 0)) IS NULL
                    OR TRY_ELEMENT_AT(`usage_history`, NULLIF((
                      _u6 + 1
                    ) - 1, 0)) = 0
                    THEN TRUE
                    ELSE CAST(_u5 AS DOUBLE) / CAST(TRY_ELEMENT_AT(`usage_history`, NULLIF((
                      _u6 + 1
                    ) - 1, 0)) AS DOUBLE) - 1 < CAST(0.199999999 AS DOUBLE)
                  END
                ),
                FALSE
              )
              THEN (
                _u6 + 1
              )
              ELSE 1
            END
          )
        ),
        1
      )
    END AS `usage_growth_cycles_at_20`,
    SIZE(
      FILTER(
        `gated_feature_attempts`,
        _u7 -> COALESCE(
          (
            _u7 BETWEEN CAST(DATE_ADD(CAST('2026-11-02' AS DATE), -14) AS DATE) AND CAST('2026-11-02' AS DATE)
          ),
          FALSE
        )
      )
    ) AS `gated_attempts_14d`,
    (
      `departments_active`
    ) - (
      `departments_at_purchase`
    ) AS `new_departments`,
    DATEDIFF(DAY, CAST('2026-11-02' AS DATE), `renewal_date`) AS `days_to_renewal`,
    DATEDIFF(DAY, `last_renewal_date`, CAST('2026-11-02' AS DATE)) AS `days_since_renewal`,
    DATEDIFF(DAY, `champion_last_engaged_on`, CAST('2026-11-02' AS DATE)) AS `days_since_champion_contact`,
    DATEDIFF(DAY, `champion_changed_on`, CAST('2026-11-02' AS DATE)) AS `days_since_champion_change`,
    DATEDIFF(DAY, `funding_announced_on`, CAST('2026-11-02' AS DATE)) AS `days_since_funding`,
    DATEDIFF(DAY, `nps_responded_on`, CAST('2026-11-02' AS DATE)) AS `days_since_nps`,
    DATEDIFF(DAY, `downgrade_requested_on`, CAST('2026-11-02' AS DATE)) AS `days_since_downgrade_request`,
    DATEDIFF(DAY, `named_gaps_on`, CAST('2026-11-02' AS DATE)) AS `days_since_gap_named`,
    DATEDIFF(DAY, `success_milestone_on`, CAST('2026-11-02' AS DATE)) AS `days_since_milestone`,
    SIZE(
      FILTER(
        `open_ticket_priorities`,
        _u8 -> COALESCE((
          REPLACE(LOWER(TRIM(CAST(_u8 AS STRING))), 'ß', 'ss') IN ('p1', 'p2')
        ), FALSE)
      )
    ) AS `open_p1_p2_tickets`,
    SIZE(`named_gaps`) AS `named_gap_count`,
    CASE
      WHEN REPLACE(LOWER(TRIM(CAST(`engagement_trend` AS STRING))), 'ß', 'ss') = 'declining'
      THEN 'at_risk'
      WHEN `customer_since` IS NULL
      THEN NULL
      WHEN DATEDIFF(DAY, `customer_since`, CAST('2026-11-02' AS DATE)) < 0
      THEN NULL
      WHEN DATEDIFF(DAY, `customer_since`, CAST('2026-11-02' AS DATE)) <= 30
      THEN 'onboarding'
      WHEN DATEDIFF(DAY, `customer_since`, CAST('2026-11-02' AS DATE)) <= 180
      THEN 'growth'
      ELSE 'maturity'
    END AS `lifecycle_stage`
  FROM inputs
), derived_2 AS (
  SELECT
    *,
    CASE
      WHEN NOT (
        `seats_active_history` IS NULL
        OR (
          (
            `seats_licensed` IS NULL OR `seats_licensed` = 0
          )
        )
      )
      THEN CAST(TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-1, 0)) AS DOUBLE) / CAST(`seats_licensed` AS DOUBLE)
    END AS `seat_utilization`,
    CASE
      WHEN NOT (
        `seats_active_history` IS NULL
        OR (
          (
            `seats_licensed` IS NULL OR `seats_licensed` = 0
          )
        )
      )
      THEN SIZE(`seats_active_history`) - COALESCE(
        ARRAY_MAX(
          TRANSFORM(
            `seats_active_history`,
            (_u9, _u10) -> CASE
              WHEN COALESCE(
                (
                  CAST(_u9 AS DOUBLE) / CAST(`seats_licensed` AS DOUBLE) IS NULL
                  OR CAST(_u9 AS DOUBLE) / CAST(`seats_licensed` AS DOUBLE) < CAST(0.8 AS DOUBLE)
                ),
                FALSE
              )
              THEN (
                _u10 + 1
              )
              ELSE 0
            END
          )
        ),
        0
      )
    END AS `seat_cycles_at_80`,
    CASE
      WHEN NOT (
        `usage_history` IS NULL
        OR (
          (
            `usage_limit` IS NULL OR `usage_limit` = 0
          )
        )
      )
      THEN CAST(TRY_ELEMENT_AT(`usage_history`, NULLIF(-1, 0)) AS DOUBLE) / CAST(`usage_limit` AS DOUBLE)
    END AS `usage_utilization`,
    CASE
      WHEN NOT (
        `usage_history` IS NULL
        OR (
          (
            `usage_limit` IS NULL OR `usage_limit` = 0
          )
        )
      )
      THEN SIZE(`usage_history`) - COALESCE(
        ARRAY_MAX(
          TRANSFORM(
            `usage_history`,
            (_u11, _u12) -> CASE
              WHEN COALESCE(
                (
                  CAST(_u11 AS DOUBLE) / CAST(`usage_limit` AS DOUBLE) IS NULL
                  OR CAST(_u11 AS DOUBLE) / CAST(`usage_limit` AS DOUBLE) <= CAST(0.7 AS DOUBLE)
                ),
                FALSE
              )
              THEN (
                _u12 + 1
              )
              ELSE 0
            END
          )
        ),
        0
      )
    END AS `usage_cycles_at_70`,
    COALESCE((
      (
        `days_since_milestone`
      ) >= (
        0
      )
    ), FALSE) AS `milestone_documented`,
    COALESCE((
      (
        `gated_attempts_14d`
      ) >= (
        2
      )
    ), FALSE) AS `feature_ceiling_hit`,
    COALESCE(
      (
        (
          (
            (
              0
            ) <= (
              `days_since_funding`
            )
          )
          AND (
            (
              `days_since_funding`
            ) <= (
              90
            )
          )
        )
        OR (
          (
            `headcount_growth_90d`
          ) > (
            CAST(0.2 AS DOUBLE)
          )
        )
      ),
      FALSE
    ) AS `business_event`
  FROM derived_1
), derived_3 AS (
  SELECT
    *,
    ARRAY_MAX(ARRAY(`seat_utilization`, `usage_utilization`)) AS `max_limit_utilization`
  FROM derived_2
), derived_4 AS (
  SELECT
    *,
    COALESCE(
      (
        (
          (
            `max_limit_utilization`
          ) >= (
            CAST(1.0 AS DOUBLE)
          )
        )
        OR (
          `business_event`
        )
      ),
      FALSE
    ) AS `urgent_usage`
  FROM derived_3
), conditions AS (
  SELECT
    `account_id`,
    `_account_name`,
    `_owner`,
    COALESCE(
      (
        (
          (
            `max_limit_utilization`
          ) > (
            CAST(0.9 AS DOUBLE)
          )
        )
        AND (
          `feature_ceiling_hit`
        )
      ),
      FALSE
    ) AS `_c0`,
    COALESCE((
      (
        `max_limit_utilization`
      ) >= (
        CAST(0.8 AS DOUBLE)
      )
    ), FALSE) AS `_c1`,
    COALESCE((
      (
        `new_departments`
      ) >= (
        1
      )
    ), FALSE) AS `_c2`,
    COALESCE((
      `feature_ceiling_hit`
    ), FALSE) AS `_c3`,
    COALESCE(
      (
        (
          `milestone_documented`
        )
        AND (
          (
            `health_score`
          ) > (
            85
          )
        )
        AND (
          (
            `days_since_champion_contact`
          ) <= (
            14
          )
        )
      ),
      FALSE
    ) AS `_c4`,
    COALESCE(
      (
        (
          `milestone_documented`
        )
        AND (
          (
            `health_score`
          ) >= (
            75
          )
        )
        AND (
          (
            `days_since_champion_contact`
          ) <= (
            30
          )
        )
      ),
      FALSE
    ) AS `_c5`,
    COALESCE(
      (
        (
          `milestone_documented`
        ) AND (
          (
            `health_score`
          ) >= (
            65
          )
        )
      ),
      FALSE
    ) AS `_c6`,
    COALESCE(
      (
        (
          (
            60
          ) <= (
            `days_to_renewal`
          )
        )
        AND (
          (
            `days_to_renewal`
          ) <= (
            90
          )
        )
      ),
      FALSE
    ) AS `_c7`,
    COALESCE((
      `business_event`
    ), FALSE) AS `_c8`,
    COALESCE(
      (
        (
          (
            30
          ) <= (
            `days_to_renewal`
          )
        )
        AND (
          (
            `days_to_renewal`
          ) < (
            60
          )
        )
      ),
      FALSE
    ) AS `_c9`,
    COALESCE(
      (
        (
          (
            `days_to_renewal`
          ) > (
            90
          )
        )
        AND (
          (
            NOT (
              NOT `days_since_renewal` IS NULL
            )
          )
          OR (
            (
              `days_since_renewal`
            ) < (
              0
            )
          )
          OR (
            (
              `days_since_renewal`
            ) > (
              30
            )
          )
        )
      ),
      FALSE
    ) AS `_c10`,
    COALESCE(
      (
        (
          (
            0
          ) <= (
            `days_since_renewal`
          )
        )
        AND (
          (
            `days_since_renewal`
          ) <= (
            30
          )
        )
      ),
      FALSE
    ) AS `_c11`,
    COALESCE((
      (
        `health_score`
      ) >= (
        65
      )
    ), FALSE) AS `_c12`,
    COALESCE((
      (
        `health_score`
      ) >= (
        75
      )
    ), FALSE) AS `_c13`,
    COALESCE((
      `milestone_documented`
    ), FALSE) AS `_c14`,
    COALESCE((
      (
        `days_since_champion_contact`
      ) <= (
        60
      )
    ), FALSE) AS `_c15`,
    COALESCE((
      (
        `days_since_champion_contact`
      ) <= (
        30
      )
    ), FALSE) AS `_c16`,
    COALESCE(
      (
        (
          REPLACE(LOWER(`lifecycle_stage`), 'ß', 'ss')
        ) = (
          'at_risk'
        )
      ),
      FALSE
    ) AS `_c17`,
    COALESCE((
      `competitor_evaluation`
    ), FALSE) AS `_c18`,
    COALESCE(
      (
        (
          REPLACE(LOWER(`lifecycle_stage`), 'ß', 'ss')
        ) = (
          'onboarding'
        )
      ),
      FALSE
    ) AS `_c19`,
    COALESCE((
      (
        `open_p1_p2_tickets`
      ) >= (
        1
      )
    ), FALSE) AS `_c20`,
    COALESCE(
      (
        (
          (
            `nps_score`
          ) <= (
            6
          )
        )
        AND (
          (
            (
              0
            ) <= (
              `days_since_nps`
            )
          )
          AND (
            (
              `days_since_nps`
            ) <= (
              60
            )
          )
        )
      ),
      FALSE
    ) AS `_c21`,
    COALESCE(
      (
        (
          (
            0
          ) <= (
            `days_since_champion_change`
          )
        )
        AND (
          (
            `days_since_champion_change`
          ) <= (
            90
          )
        )
      ),
      FALSE
    ) AS `_c22`,
    COALESCE(
      (
        (
          (
            0
          ) <= (
            `days_to_renewal`
          )
        )
        AND (
          (
            `days_to_renewal`
          ) < (
            30
          )
        )
      ),
      FALSE
    ) AS `_c23`,
    COALESCE(
      (
        (
          (
            (
              0
            ) <= (
              `days_since_renewal`
            )
          )
          AND (
            (
              `days_since_renewal`
            ) <= (
              30
            )
          )
        )
        AND (
          NOT (
            `urgent_usage`
          )
        )
      ),
      FALSE
    ) AS `_c24`,
    COALESCE(
      (
        (
          (
            (
              0
            ) <= (
              `days_since_renewal`
            )
          )
          AND (
            (
              `days_since_renewal`
            ) <= (
              30
            )
          )
        )
        AND (
          `urgent_usage`
        )
      ),
      FALSE
    ) AS `_c25`,
    COALESCE(
      (
        (
          (
            0
          ) <= (
            `days_since_downgrade_request`
          )
        )
        AND (
          (
            `days_since_downgrade_request`
          ) <= (
            90
          )
        )
      ),
      FALSE
    ) AS `_c26`,
    COALESCE(
      (
        (
          (
            90
          ) < (
            `days_since_downgrade_request`
          )
        )
        AND (
          (
            `days_since_downgrade_request`
          ) <= (
            365
          )
        )
      ),
      FALSE
    ) AS `_c27`,
    COALESCE((
      (
        `seat_utilization`
      ) >= (
        CAST(0.85 AS DOUBLE)
      )
    ), FALSE) AS `_c28`,
    COALESCE((
      (
        `seat_cycles_at_80`
      ) >= (
        2
      )
    ), FALSE) AS `_c29`,
    COALESCE((
      (
        `new_departments`
      ) >= (
        1
      )
    ), FALSE) AS `_c30`,
    COALESCE(
      (
        (
          (
            `power_users`
          ) >= (
            1
          )
        )
        AND (
          (
            `seat_utilization`
          ) >= (
            CAST(0.7 AS DOUBLE)
          )
        )
      ),
      FALSE
    ) AS `_c31`,
    COALESCE((
      `feature_ceiling_hit`
    ), FALSE) AS `_c32`,
    COALESCE((
      (
        `usage_cycles_at_70`
      ) >= (
        2
      )
    ), FALSE) AS `_c33`,
    COALESCE((
      (
        `usage_growth_cycles_at_20`
      ) >= (
        2
      )
    ), FALSE) AS `_c34`,
    COALESCE(
      (
        (
          (
            `named_gap_count`
          ) >= (
            1
          )
        )
        AND (
          (
            NOT (
              NOT `days_since_gap_named` IS NULL
            )
          )
          OR (
            (
              (
                0
              ) <= (
                `days_since_gap_named`
              )
            )
            AND (
              (
                `days_since_gap_named`
              ) <= (
                30
              )
            )
          )
        )
      ),
      FALSE
    ) AS `_c35`,
    COALESCE(
      (
        (
          (
            60
          ) <= (
            `days_to_renewal`
          )
        )
        AND (
          (
            `days_to_renewal`
          ) <= (
            90
          )
        )
      ),
      FALSE
    ) AS `_c36`,
    COALESCE((
      (
        `arr`
      ) >= (
        25000
      )
    ), FALSE) AS `_c37`
  FROM derived_4
), scored AS (
  SELECT
    *,
    CAST(CASE
      WHEN `_c0`
      THEN CAST(10.0 AS DOUBLE)
      WHEN `_c1`
      THEN CAST(8.0 AS DOUBLE)
      WHEN `_c2`
      THEN CAST(8.0 AS DOUBLE)
      WHEN `_c3`
      THEN CAST(5.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS DOUBLE) AS `score_product`,
    CAST(CASE
      WHEN `_c4`
      THEN CAST(10.0 AS DOUBLE)
      WHEN `_c5`
      THEN CAST(8.0 AS DOUBLE)
      WHEN `_c6`
      THEN CAST(5.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS DOUBLE) AS `score_relationship`,
    CAST(CASE
      WHEN `_c7`
      THEN CAST(10.0 AS DOUBLE)
      WHEN `_c8`
      THEN CAST(10.0 AS DOUBLE)
      WHEN `_c9`
      THEN CAST(8.0 AS DOUBLE)
      WHEN `_c10`
      THEN CAST(4.0 AS DOUBLE)
      WHEN `_c11`
      THEN CAST(1.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS DOUBLE) AS `score_commercial`,
    CAST(CASE WHEN `_c26` THEN CAST(30.0 AS DOUBLE) WHEN `_c27` THEN CAST(30.0 AS DOUBLE) END AS DOUBLE) AS `_cap`,
    CASE
      WHEN `_c17`
      THEN 'retention_focus'
      WHEN `_c18`
      THEN 'retention_focus'
      WHEN `_c19`
      THEN 'onboarding_focus'
      WHEN `_c20`
      THEN 'resolve_ticket'
      WHEN `_c21`
      THEN 'recovery_sequence'
      WHEN `_c22`
      THEN 'new_relationship'
      WHEN `_c23`
      THEN 'renewal_only'
      WHEN `_c24`
      THEN 'next_window'
      WHEN NOT `_c12`
      THEN 'health_recovery'
      WHEN NOT `_c14`
      THEN 'milestone_capture'
      WHEN NOT `_c15`
      THEN 're_engagement'
    END AS `_blocker_play`,
    CASE
      WHEN `_c28`
      THEN 'seat_expansion'
      WHEN `_c29`
      THEN 'seat_expansion'
      WHEN `_c30`
      THEN 'multi_team_expansion'
      WHEN `_c31`
      THEN 'seat_expansion'
      WHEN `_c32`
      THEN 'plan_upgrade_feature'
      WHEN `_c33`
      THEN 'plan_upgrade_usage'
      WHEN `_c34`
      THEN 'plan_upgrade_usage'
      WHEN `_c35`
      THEN 'addon_gap'
      WHEN `_c36`
      THEN 'value_review'
    END AS `_trigger_play`,
    CASE
      WHEN `_c28`
      THEN 'seat_headroom'
      WHEN `_c29`
      THEN 'seat_utilization_sustained'
      WHEN `_c30`
      THEN 'multi_team_spread'
      WHEN `_c31`
      THEN 'power_users_emerging'
      WHEN `_c32`
      THEN 'gated_feature_cluster'
      WHEN `_c33`
      THEN 'metered_usage_sustained'
      WHEN `_c34`
      THEN 'usage_velocity'
      WHEN `_c35`
      THEN 'named_gap'
      WHEN `_c36`
      THEN 'contract_anniversary'
    END AS `trigger`,
    SUBSTRING(
      NULLIF(
        CASE WHEN `_c28` THEN '|seat_headroom' ELSE '' END || CASE WHEN `_c29` THEN '|seat_utilization_sustained' ELSE '' END || CASE WHEN `_c30` THEN '|multi_team_spread' ELSE '' END || CASE WHEN `_c31` THEN '|power_users_emerging' ELSE '' END || CASE WHEN `_c32` THEN '|gated_feature_cluster' ELSE '' END || CASE WHEN `_c33` THEN '|metered_usage_sustained' ELSE '' END || CASE WHEN `_c34` THEN '|usage_velocity' ELSE '' END || CASE WHEN `_c35` THEN '|named_gap' ELSE '' END || CASE WHEN `_c36` THEN '|contract_anniversary' ELSE '' END,
        ''
      ),
      2
    ) AS `triggers`,
    SUBSTRING(
      NULLIF(
        CASE WHEN `_c28` THEN '|seat' ELSE '' END || CASE WHEN `_c29` AND NOT `_c28` THEN '|seat' ELSE '' END || CASE WHEN `_c30` AND NOT `_c28` AND NOT `_c29` THEN '|seat' ELSE '' END || CASE
          WHEN `_c31` AND NOT `_c28` AND NOT `_c29` AND NOT `_c30`
          THEN '|seat'
          ELSE ''
        END || CASE WHEN `_c32` THEN '|plan' ELSE '' END || CASE WHEN `_c33` AND NOT `_c32` THEN '|plan' ELSE '' END || CASE WHEN `_c34` AND NOT `_c32` AND NOT `_c33` THEN '|plan' ELSE '' END || CASE WHEN `_c35` THEN '|addon' ELSE '' END || CASE WHEN `_c36` THEN '|anniversary' ELSE '' END,
        ''
      ),
      2
    ) AS `upsell_types`,
    SUBSTRING(
      NULLIF(
        CASE WHEN NOT `_c12` THEN '|health_floor' ELSE '' END || CASE WHEN NOT `_c13` THEN '|health_marginal' ELSE '' END || CASE WHEN NOT `_c14` THEN '|success_milestone' ELSE '' END || CASE WHEN NOT `_c15` THEN '|champion_not_cold' ELSE '' END || CASE WHEN NOT `_c16` THEN '|champion_recent' ELSE '' END,
        ''
      ),
      2
    ) AS `failed_gates`,
    SUBSTRING(
      NULLIF(
        CASE WHEN `_c17` THEN '|at_risk' ELSE '' END || CASE WHEN `_c18` THEN '|competitor_evaluation' ELSE '' END || CASE WHEN `_c19` THEN '|onboarding' ELSE '' END || CASE WHEN `_c20` THEN '|open_p1_p2_ticket' ELSE '' END || CASE WHEN `_c21` THEN '|nps_detractor' ELSE '' END || CASE WHEN `_c22` THEN '|champion_turnover' ELSE '' END || CASE WHEN `_c23` THEN '|renewal_close_only' ELSE '' END || CASE WHEN `_c24` THEN '|post_renewal_dead_zone' ELSE '' END || CASE WHEN `_c25` THEN '|post_renewal_urgent' ELSE '' END || CASE WHEN `_c26` THEN '|downgrade_recent' ELSE '' END || CASE WHEN `_c27` THEN '|downgrade_cooldown' ELSE '' END,
        ''
      ),
      2
    ) AS `red_flags`
  FROM conditions
), weighted AS (
  SELECT
    *,
    (
      CAST(0.0 AS DOUBLE) + `score_product` * CAST(0.4 AS DOUBLE) + `score_relationship` * CAST(0.35 AS DOUBLE) + `score_commercial` * CAST(0.25 AS DOUBLE)
    ) * CAST(10.0 AS DOUBLE) AS `_v`
  FROM scored
), rounding AS (
  SELECT
    *,
    `_v` * CAST(100.0 AS DOUBLE) AS `_p`,
    `_v` * CAST(134217729.0 AS DOUBLE) - (
      `_v` * CAST(134217729.0 AS DOUBLE) - `_v`
    ) AS `_hi`,
    FLOOR(`_v` * CAST(100.0 AS DOUBLE)) AS `_f`
  FROM weighted
), tie AS (
  SELECT
    *,
    (
      (
        `_p` - `_f`
      ) - CAST(0.5 AS DOUBLE)
    ) + (
      (
        `_hi` * CAST(100.0 AS DOUBLE) - `_p`
      ) + (
        `_v` - `_hi`
      ) * CAST(100.0 AS DOUBLE)
    ) AS `_t`
  FROM rounding
), rounded AS (
  SELECT
    *,
    CAST(CASE
      WHEN `_t` > CAST(0.0 AS DOUBLE)
      THEN `_f` + CAST(1.0 AS DOUBLE)
      WHEN `_t` < CAST(0.0 AS DOUBLE)
      THEN `_f`
      WHEN `_f` - CAST(2.0 AS DOUBLE) * FLOOR(`_f` / CAST(2.0 AS DOUBLE)) = CAST(0.0 AS DOUBLE)
      THEN `_f`
      ELSE `_f` + CAST(1.0 AS DOUBLE)
    END AS DOUBLE) / CAST(100.0 AS DOUBLE) AS `raw_score`
  FROM tie
), capped AS (
  SELECT
    *,
    CASE WHEN `_cap` IS NULL OR `raw_score` <= `_cap` THEN `raw_score` ELSE `_cap` END AS `score`,
    NOT `_blocker_play` IS NULL AS `blocked`
  FROM rounded
), banded AS (
  SELECT
    *,
    CASE
      WHEN `score` >= CAST(70.0 AS DOUBLE)
      THEN 'act_now'
      WHEN `score` >= CAST(50.0 AS DOUBLE)
      THEN 'warming'
      WHEN `score` >= CAST(30.0 AS DOUBLE)
      THEN 'monitor'
      ELSE 'wait'
    END AS `band`,
    CASE WHEN `raw_score` > `score` THEN `_cap` END AS `capped_at`
  FROM capped
), played AS (
  SELECT
    *,
    CASE
      WHEN NOT `_blocker_play` IS NULL
      THEN `_blocker_play`
      WHEN `band` IN ('act_now') AND NOT `_trigger_play` IS NULL
      THEN `_trigger_play`
      ELSE CASE `band`
        WHEN 'act_now'
        THEN 'upsell_outreach'
        WHEN 'warming'
        THEN 'warming_touchpoint'
        WHEN 'monitor'
        THEN 'monitor_monthly'
        WHEN 'wait'
        THEN 'wait_and_strengthen'
      END
    END AS `play`
  FROM banded
), owned AS (
  SELECT
    *,
    CASE `play`
      WHEN 'upsell_outreach'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'seat_expansion'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'multi_team_expansion'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'plan_upgrade_feature'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'plan_upgrade_usage'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'addon_gap'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'value_review'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'warming_touchpoint'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'monitor_monthly'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'wait_and_strengthen'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'health_recovery'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'health_intervention'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'milestone_capture'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 're_engagement'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'warm_up_touchpoint'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'retention_focus'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'onboarding_focus'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'resolve_ticket'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'recovery_sequence'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'new_relationship'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'renewal_only'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'next_window'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
      WHEN 'operational_framing'
      THEN CASE WHEN `_c37` THEN 'CSM + AE' ELSE 'CSM' END
    END AS `action_owner`
  FROM played
)
SELECT
  `account_id`,
  `_account_name` AS `account_name`,
  `_owner` AS `owner`,
  `score`,
  `raw_score`,
  `band`,
  `blocked`,
  `capped_at`,
  `score_product`,
  `score_relationship`,
  `score_commercial`,
  `upsell_types`,
  `trigger`,
  `triggers`,
  `failed_gates`,
  `red_flags`,
  `play`,
  `action_owner`
FROM owned;
