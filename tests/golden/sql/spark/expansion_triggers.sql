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
      WHEN CAST(`health_score` AS DOUBLE) < CAST(0.0 AS DOUBLE)
      OR CAST(`health_score` AS DOUBLE) > CAST(100.0 AS DOUBLE)
      THEN NULL
      ELSE CAST(`health_score` AS DOUBLE)
    END AS `health_score`,
    CAST(`champion_last_engaged_on` AS DATE) AS `champion_last_engaged_on`,
    CAST(`renewal_date` AS DATE) AS `renewal_date`,
    CAST(`open_ticket_priorities` AS ARRAY<STRING>) AS `open_ticket_priorities`,
    CAST(`engagement_trend` AS STRING) AS `engagement_trend`,
    CAST(`customer_since` AS DATE) AS `customer_since`,
    CASE
      WHEN CAST(`nps_score` AS BIGINT) < CAST(0.0 AS DOUBLE)
      OR CAST(`nps_score` AS BIGINT) > CAST(10.0 AS DOUBLE)
      THEN NULL
      ELSE CAST(`nps_score` AS BIGINT)
    END AS `nps_score`,
    CAST(`nps_responded_on` AS DATE) AS `nps_responded_on`,
    CAST(`champion_changed_on` AS DATE) AS `champion_changed_on`,
    CAST(`competitor_evaluation` AS BOOLEAN) AS `competitor_evaluation`,
    CAST(`downgrade_requested_on` AS DATE) AS `downgrade_requested_on`
  FROM accounts
), derived_1 AS (
  SELECT
    *,
    CASE
      WHEN NOT (
        NOT (
          `seats_active_history` IS NULL
        )
      )
      OR `seats_licensed` IS NULL
      THEN NULL
      WHEN SIZE(`seats_active_history`) = 0
      THEN NULL
      WHEN TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-1, 0)) >= `seats_licensed`
      THEN CAST(0.0 AS DOUBLE)
      WHEN SIZE(`seats_active_history`) >= 3
      THEN CASE
        WHEN (
          CAST(0.0 AS DOUBLE) + -(
            CAST(1.0 AS DOUBLE)
          ) * (
            TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-3, 0)) - TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-3, 0))
          ) + CAST(0.0 AS DOUBLE) * (
            TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-2, 0)) - TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-3, 0))
          ) + CAST(1.0 AS DOUBLE) * (
            TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-1, 0)) - TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-3, 0))
          )
        ) * 12 / 24 > 0
        THEN (
          `seats_licensed` - TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-1, 0))
        ) / (
          (
            CAST(0.0 AS DOUBLE) + -(
              CAST(1.0 AS DOUBLE)
            ) * (
              TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-3, 0)) - TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-3, 0))
            ) + CAST(0.0 AS DOUBLE) * (
              TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-2, 0)) - TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-3, 0))
            ) + CAST(1.0 AS DOUBLE) * (
              TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-1, 0)) - TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-3, 0))
            )
          ) * 12 / 24
        ) * 30
      END
      WHEN SIZE(`seats_active_history`) >= 2
      THEN CASE
        WHEN (
          CAST(0.0 AS DOUBLE) + -(
            CAST(0.5 AS DOUBLE)
          ) * (
            TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-2, 0)) - TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-2, 0))
          ) + CAST(0.5 AS DOUBLE) * (
            TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-1, 0)) - TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-2, 0))
          )
        ) * 12 / 6 > 0
        THEN (
          `seats_licensed` - TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-1, 0))
        ) / (
          (
            CAST(0.0 AS DOUBLE) + -(
              CAST(0.5 AS DOUBLE)
            ) * (
              TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-2, 0)) - TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-2, 0))
            ) + CAST(0.5 AS DOUBLE) * (
              TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-1, 0)) - TRY_ELEMENT_AT(`seats_active_history`, NULLIF(-2, 0))
            )
          ) * 12 / 6
        ) * 30
      END
    END AS `days_to_seat_ceiling`,
    CASE
      WHEN NOT (
        NOT (
          `usage_history` IS NULL
        )
      ) OR `usage_limit` IS NULL
      THEN NULL
      WHEN SIZE(`usage_history`) = 0
      THEN NULL
      WHEN TRY_ELEMENT_AT(`usage_history`, NULLIF(-1, 0)) >= `usage_limit`
      THEN CAST(0.0 AS DOUBLE)
      WHEN SIZE(`usage_history`) >= 3
      THEN CASE
        WHEN (
          CAST(0.0 AS DOUBLE) + -(
            CAST(1.0 AS DOUBLE)
          ) * (
            TRY_ELEMENT_AT(`usage_history`, NULLIF(-3, 0)) - TRY_ELEMENT_AT(`usage_history`, NULLIF(-3, 0))
          ) + CAST(0.0 AS DOUBLE) * (
            TRY_ELEMENT_AT(`usage_history`, NULLIF(-2, 0)) - TRY_ELEMENT_AT(`usage_history`, NULLIF(-3, 0))
          ) + CAST(1.0 AS DOUBLE) * (
            TRY_ELEMENT_AT(`usage_history`, NULLIF(-1, 0)) - TRY_ELEMENT_AT(`usage_history`, NULLIF(-3, 0))
          )
        ) * 12 / 24 > 0
        THEN (
          `usage_limit` - TRY_ELEMENT_AT(`usage_history`, NULLIF(-1, 0))
        ) / (
          (
            CAST(0.0 AS DOUBLE) + -(
              CAST(1.0 AS DOUBLE)
            ) * (
              TRY_ELEMENT_AT(`usage_history`, NULLIF(-3, 0)) - TRY_ELEMENT_AT(`usage_history`, NULLIF(-3, 0))
            ) + CAST(0.0 AS DOUBLE) * (
              TRY_ELEMENT_AT(`usage_history`, NULLIF(-2, 0)) - TRY_ELEMENT_AT(`usage_history`, NULLIF(-3, 0))
            ) + CAST(1.0 AS DOUBLE) * (
              TRY_ELEMENT_AT(`usage_history`, NULLIF(-1, 0)) - TRY_ELEMENT_AT(`usage_history`, NULLIF(-3, 0))
            )
          ) * 12 / 24
        ) * 30
      END
      WHEN SIZE(`usage_history`) >= 2
      THEN CASE
        WHEN (
          CAST(0.0 AS DOUBLE) + -(
            CAST(0.5 AS DOUBLE)
          ) * (
            TRY_ELEMENT_AT(`usage_history`, NULLIF(-2, 0)) - TRY_ELEMENT_AT(`usage_history`, NULLIF(-2, 0))
          ) + CAST(0.5 AS DOUBLE) * (
            TRY_ELEMENT_AT(`usage_history`, NULLIF(-1, 0)) - TRY_ELEMENT_AT(`usage_history`, NULLIF(-2, 0))
          )
        ) * 12 / 6 > 0
        THEN (
          `usage_limit` - TRY_ELEMENT_AT(`usage_history`, NULLIF(-1, 0))
        ) / (
          (
            CAST(0.0 AS DOUBLE) + -(
              CAST(0.5 AS DOUBLE)
            ) * (
              TRY_ELEMENT_AT(`usage_history`, NULLIF(-2, 0)) - TRY_ELEMENT_AT(`usage_history`, NULLIF(-2, 0))
            ) + CAST(0.5 AS DOUBLE) * (
              TRY_ELEMENT_AT(`usage_history`, NULLIF(-1, 0)) - TRY_ELEMENT_AT(`usage_history`, NULLIF(-2, 0))
            )
          ) * 12 / 6
        ) * 30
      END
    END AS `days_to_usage_ceiling`,
    SIZE(
      FILTER(
        `gated_feature_attempts`,
        _u5 -> COALESCE(
          (
            _u5 BETWEEN CAST(DATE_ADD(CAST('2026-11-02' AS DATE), -14) AS DATE) AND CAST('2026-11-02' AS DATE)
          ),
          FALSE
        )
      )
    ) AS `gated_attempts_recent`,
    DATEDIFF(DAY, CAST('2026-11-02' AS DATE), `renewal_date`) AS `days_to_renewal`,
    DATEDIFF(DAY, `champion_last_engaged_on`, CAST('2026-11-02' AS DATE)) AS `days_since_champion_contact`,
    SIZE(
      FILTER(
        `open_ticket_priorities`,
        _u6 -> COALESCE((
          REPLACE(LOWER(TRIM(CAST(_u6 AS STRING))), 'ß', 'ss') IN ('p1', 'p2')
        ), FALSE)
      )
    ) AS `open_p1_p2_tickets`,
    DATEDIFF(DAY, `customer_since`, CAST('2026-11-02' AS DATE)) AS `days_as_customer`,
    DATEDIFF(DAY, `nps_responded_on`, CAST('2026-11-02' AS DATE)) AS `days_since_nps`,
    DATEDIFF(DAY, `champion_changed_on`, CAST('2026-11-02' AS DATE)) AS `days_since_champion_change`,
    DATEDIFF(DAY, `downgrade_requested_on`, CAST('2026-11-02' AS DATE)) AS `days_since_downgrade_request`
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
            (_u7, _u8) -> CASE
              WHEN COALESCE(
                (
                  CAST(_u7 AS DOUBLE) / CAST(`usage_limit` AS DOUBLE) IS NULL
                  OR CAST(_u7 AS DOUBLE) / CAST(`usage_limit` AS DOUBLE) <= CAST(0.7 AS DOUBLE)
                ),
                FALSE
              )
              THEN (
                _u8 + 1
              )
              ELSE 0
            END
          )
        ),
        0
      )
    END AS `usage_cycles_over_trigger`
  FROM derived_1
), conditions AS (
  SELECT
    `account_id`,
    `_account_name`,
    `_owner`,
    COALESCE((
      (
        `seat_utilization`
      ) >= (
        CAST(0.85 AS DOUBLE)
      )
    ), FALSE) AS `_c0`,
    COALESCE((
      (
        `gated_attempts_recent`
      ) >= (
        2
      )
    ), FALSE) AS `_c1`,
    COALESCE((
      (
        `usage_cycles_over_trigger`
      ) >= (
        2
      )
    ), FALSE) AS `_c2`,
    COALESCE(
      (
        (
          (
            `days_to_usage_ceiling`
          ) <= (
            90
          )
        )
        OR (
          (
            `days_to_seat_ceiling`
          ) <= (
            90
          )
        )
      ),
      FALSE
    ) AS `_c3`,
    COALESCE(
      (
        (
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
    ) AS `_c4`,
    COALESCE((
      (
        `health_score`
      ) >= (
        65
      )
    ), FALSE) AS `_c5`,
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
    ) AS `_c6`,
    COALESCE(
      (
        (
          (
            90
          ) < (
            `days_to_renewal`
          )
        )
        AND (
          (
            `days_to_renewal`
          ) <= (
            120
          )
        )
      ),
      FALSE
    ) AS `_c7`,
    COALESCE((
      (
        `days_to_renewal`
      ) > (
        120
      )
    ), FALSE) AS `_c8`,
    COALESCE((
      (
        `health_score`
      ) >= (
        65
      )
    ), FALSE) AS `_c9`,
    COALESCE((
      (
        `days_since_champion_contact`
      ) <= (
        60
      )
    ), FALSE) AS `_c10`,
    COALESCE(
      (
        (
          REPLACE(LOWER(`engagement_trend`), 'ß', 'ss')
        ) = (
          'declining'
        )
      ),
      FALSE
    ) AS `_c11`,
    COALESCE((
      `competitor_evaluation`
    ), FALSE) AS `_c12`,
    COALESCE(
      (
        (
          (
            0
          ) <= (
            `days_as_customer`
          )
        )
        AND (
          (
            `days_as_customer`
          ) <= (
            30
          )
        )
      ),
      FALSE
    ) AS `_c13`,
    COALESCE((
      (
        `open_p1_p2_tickets`
      ) >= (
        1
      )
    ), FALSE) AS `_c14`,
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
    ) AS `_c15`,
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
    ) AS `_c16`,
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
    ) AS `_c17`,
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
            365
          )
        )
      ),
      FALSE
    ) AS `_c18`,
    COALESCE((
      (
        `seat_utilization`
      ) >= (
        CAST(0.85 AS DOUBLE)
      )
    ), FALSE) AS `_c19`,
    COALESCE((
      (
        `gated_attempts_recent`
      ) >= (
        2
      )
    ), FALSE) AS `_c20`,
    COALESCE((
      (
        `usage_cycles_over_trigger`
      ) >= (
        2
      )
    ), FALSE) AS `_c21`,
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
    ) AS `_c22`,
    COALESCE((
      (
        `arr`
      ) >= (
        25000
      )
    ), FALSE) AS `_c23`,
    COALESCE((
      (
        `arr`
      ) >= (
        25000
      )
    ), FALSE) AS `_c24`,
    COALESCE((
      (
        `arr`
      ) >= (
        25000
      )
    ), FALSE) AS `_c25`
  FROM derived_2
), scored AS (
  SELECT
    *,
    CAST(CASE
      WHEN `_c0`
      THEN CAST(10.0 AS DOUBLE)
      WHEN `_c1`
      THEN CAST(9.0 AS DOUBLE)
      WHEN `_c2`
      THEN CAST(8.0 AS DOUBLE)
      WHEN `_c3`
      THEN CAST(6.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS DOUBLE) AS `score_product`,
    CAST(CASE
      WHEN `_c4`
      THEN CAST(10.0 AS DOUBLE)
      WHEN `_c5`
      THEN CAST(6.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS DOUBLE) AS `score_relationship`,
    CAST(CASE
      WHEN `_c6`
      THEN CAST(10.0 AS DOUBLE)
      WHEN `_c7`
      THEN CAST(6.0 AS DOUBLE)
      WHEN `_c8`
      THEN CAST(3.0 AS DOUBLE)
      ELSE CAST(0.0 AS DOUBLE)
    END AS DOUBLE) AS `score_commercial`,
    CAST(CASE WHEN `_c18` THEN CAST(30.0 AS DOUBLE) END AS DOUBLE) AS `_cap`,
    CASE
      WHEN `_c11`
      THEN 'retention_first'
      WHEN `_c12`
      THEN 'competitor_retention'
      WHEN `_c13`
      THEN 'onboarding_first'
      WHEN `_c14`
      THEN 'resolve_ticket'
      WHEN `_c15`
      THEN 'recovery_sequence'
      WHEN `_c16`
      THEN 'new_relationship'
      WHEN `_c17`
      THEN 'renewal_only'
      WHEN NOT `_c9`
      THEN 'health_first'
      WHEN NOT `_c10`
      THEN 're_engage'
    END AS `_blocker_play`,
    CASE
      WHEN `_c19`
      THEN 'seat_capacity_play'
      WHEN `_c20`
      THEN 'feature_unlock_play'
      WHEN `_c21`
      THEN 'usage_ceiling_play'
      WHEN `_c22`
      THEN 'anniversary_play'
    END AS `_trigger_play`,
    CASE
      WHEN `_c19`
      THEN 'seat_capacity'
      WHEN `_c20`
      THEN 'feature_unlock'
      WHEN `_c21`
      THEN 'usage_ceiling'
      WHEN `_c22`
      THEN 'contract_anniversary'
    END AS `trigger`,
    SUBSTRING(
      NULLIF(
        CASE WHEN `_c19` THEN '|seat_capacity' ELSE '' END || CASE WHEN `_c20` THEN '|feature_unlock' ELSE '' END || CASE WHEN `_c21` THEN '|usage_ceiling' ELSE '' END || CASE WHEN `_c22` THEN '|contract_anniversary' ELSE '' END,
        ''
      ),
      2
    ) AS `triggers`,
    SUBSTRING(
      NULLIF(
        CASE WHEN `_c19` THEN '|seat' ELSE '' END || CASE WHEN `_c20` THEN '|plan' ELSE '' END || CASE WHEN `_c21` AND NOT `_c20` THEN '|plan' ELSE '' END || CASE WHEN `_c22` THEN '|anniversary' ELSE '' END,
        ''
      ),
      2
    ) AS `upsell_types`,
    SUBSTRING(
      NULLIF(
        CASE WHEN NOT `_c9` THEN '|health_floor' ELSE '' END || CASE WHEN NOT `_c10` THEN '|champion_reachable' ELSE '' END,
        ''
      ),
      2
    ) AS `failed_gates`,
    SUBSTRING(
      NULLIF(
        CASE WHEN `_c11` THEN '|at_risk' ELSE '' END || CASE WHEN `_c12` THEN '|competitor_evaluation' ELSE '' END || CASE WHEN `_c13` THEN '|onboarding' ELSE '' END || CASE WHEN `_c14` THEN '|open_p1_p2_ticket' ELSE '' END || CASE WHEN `_c15` THEN '|nps_detractor' ELSE '' END || CASE WHEN `_c16` THEN '|champion_turnover' ELSE '' END || CASE WHEN `_c17` THEN '|renewal_too_close' ELSE '' END || CASE WHEN `_c18` THEN '|downgrade_recent' ELSE '' END,
        ''
      ),
      2
    ) AS `red_flags`
  FROM conditions
), weighted AS (
  SELECT
    *,
    (
      CAST(0.0 AS DOUBLE) + `score_product` * CAST(0.5 AS DOUBLE) + `score_relationship` * CAST(0.3 AS DOUBLE) + `score_commercial` * CAST(0.2 AS DOUBLE)
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
        THEN 'expansion_outreach'
        WHEN 'warming'
        THEN 'warming_touchpoint'
        WHEN 'monitor'
        THEN 'monitor_trend'
        WHEN 'wait'
        THEN 'no_expansion'
      END
    END AS `play`
  FROM banded
), owned AS (
  SELECT
    *,
    CASE `play`
      WHEN 'usage_ceiling_play'
      THEN 'CSM'
      WHEN 'seat_capacity_play'
      THEN CASE WHEN `_c23` THEN 'AE (with the CSM)' ELSE 'CSM' END
      WHEN 'feature_unlock_play'
      THEN CASE WHEN `_c25` THEN 'CSM' ELSE 'CSM or the in-product upgrade flow' END
      WHEN 'anniversary_play'
      THEN CASE WHEN `_c24` THEN 'CSM leads, AE involved' ELSE 'CSM' END
      WHEN 'expansion_outreach'
      THEN CASE WHEN `_c24` THEN 'CSM leads, AE involved' ELSE 'CSM' END
      WHEN 'warming_touchpoint'
      THEN 'CSM'
      WHEN 'monitor_trend'
      THEN 'CSM'
      WHEN 'no_expansion'
      THEN 'CSM'
      WHEN 'health_first'
      THEN 'CSM'
      WHEN 're_engage'
      THEN 'CSM'
      WHEN 'retention_first'
      THEN 'CSM'
      WHEN 'resolve_ticket'
      THEN 'CSM'
      WHEN 'competitor_retention'
      THEN CASE WHEN `_c24` THEN 'CSM leads, AE involved' ELSE 'CSM' END
      WHEN 'onboarding_first'
      THEN 'CSM'
      WHEN 'recovery_sequence'
      THEN 'CSM'
      WHEN 'new_relationship'
      THEN 'CSM'
      WHEN 'renewal_only'
      THEN CASE WHEN `_c24` THEN 'CSM leads, AE involved' ELSE 'CSM' END
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
