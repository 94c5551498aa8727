"""The dashboard's pages: Streamlit scripts registered by dashboard/app.py with st.navigation."""
