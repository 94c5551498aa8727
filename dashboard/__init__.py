"""The Streamlit app researchers use to watch new trials and papers."""
