"""Reports: KPI queries into DataFrames, the summary of contract 4.4, the monthly report, charts, exports."""
